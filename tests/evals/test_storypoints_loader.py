from __future__ import annotations

from pathlib import Path

import pytest

from evals.datasets.storypoints import (
    DatasetFormatError,
    load_deepse_anchors,
    load_projects,
    load_tawosi_anchors,
    resolve_root,
    tawosi_splits,
)
from tests.estimation.spdata import write_dataset
from tools.errors import NotFoundError


def test_loads_native_formats_with_original_and_rule_splits(tmp_path: Path) -> None:
    write_dataset(tmp_path, n=100)
    alpha, beta = load_projects(tmp_path)
    assert (alpha.name, alpha.source, beta.name, beta.source) == ("alpha", "deepse", "BETA", "tawosi")
    # Deep-SE: the split file's one-hot rows, in order
    assert [len(alpha.split(s)) for s in ("train", "valid", "test")] == [60, 20, 20]
    assert alpha.issues[0].issue_key == "ALPHA-0" and alpha.issues[59].split == "train"
    assert alpha.issues[60].split == "valid"
    # Tawosi: floor(0.6n)-1 train, floor(0.2n) valid, rest test
    assert [len(beta.split(s)) for s in ("train", "valid", "test")] == [59, 20, 21]
    assert beta.issues[0].created is not None and beta.issues[0].created.year == 2019
    assert all(i.points >= 0 for i in alpha.issues + beta.issues)


def test_null_description_becomes_empty(tmp_path: Path) -> None:
    write_dataset(tmp_path)
    csv_path = tmp_path / "deepse" / "alpha.csv"
    lines = csv_path.read_text().splitlines()
    lines[1] = "ALPHA-0,some title,NULL,3"
    csv_path.write_text("\n".join(lines) + "\n")
    issue = load_projects(tmp_path, ["alpha"])[0].issues[0]
    assert (issue.title, issue.description, issue.points) == ("some title", "", 3.0)


def test_accepts_datasets_root_or_storypoints_folder(tmp_path: Path) -> None:
    write_dataset(tmp_path, nested=True)
    assert resolve_root(tmp_path) == tmp_path / "storypoints"
    assert resolve_root(tmp_path / "storypoints") == tmp_path / "storypoints"
    assert [p.name for p in load_projects(tmp_path, ["beta"])] == ["BETA"]  # case-insensitive
    with pytest.raises(FileNotFoundError, match="no story-point data"):
        resolve_root(tmp_path / "storypoints" / "deepse" / "original_splits")


def test_unknown_project_lists_available(tmp_path: Path) -> None:
    write_dataset(tmp_path)
    with pytest.raises(NotFoundError, match="unknown project.*gamma.*available: alpha, BETA"):
        load_projects(tmp_path, ["gamma"])


def test_anchor_tables_read_as_published(tmp_path: Path) -> None:
    write_dataset(tmp_path)
    deepse = load_deepse_anchors(tmp_path)["alpha"]
    assert deepse.deepse_mae_replicated_tawosi2022 == 2.6 and deepse.gpt2sp_mae_corrected == 2.7
    tawosi = load_tawosi_anchors(tmp_path)["BETA"]
    assert tawosi.deepse_mae == 2.9 and tawosi.tfidf_svm_mae is None and tawosi.median_baseline_mae == 3.1


def _corrupt(path: Path, line_no: int, new: str) -> None:
    lines = path.read_text().splitlines()
    lines[line_no - 1] = new
    path.write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize(
    ("relpath", "line", "content", "problem"),
    [
        ("deepse/alpha.csv", 5, "ALPHA-3,title,desc,lots", "story points 'lots' is not a number"),
        ("deepse/alpha.csv", 7, "ALPHA-5,title only,3", "3 fields, expected 4"),
        ("deepse/alpha.csv", 1, "key,title,description,storypoint", "header"),
        ("deepse/alpha.csv", 4, "ALPHA-2,title,desc,-2", "must be a finite number >= 0"),
        ("deepse/original_splits/alpha_3sets.txt", 9, "1\t1\t0", "one-hot"),
        ("tawosi2022/BETA_deep-se.csv", 3, '"BETA-1","2019-01-02","t","d","3"', "is not MM/DD/YYYY"),
        (
            "anchors_tawosi2022_extra_projects.csv",
            2,
            "BETA,100,abc,,3.3,3.1",
            "deepse_mae 'abc' is not a number",
        ),
    ],
)
def test_malformed_file_error_names_file_and_line(
    tmp_path: Path, relpath: str, line: int, content: str, problem: str
) -> None:
    write_dataset(tmp_path)
    _corrupt(tmp_path / relpath, line, content)
    with pytest.raises(DatasetFormatError) as info:
        load_projects(tmp_path)
        load_deepse_anchors(tmp_path)
        load_tawosi_anchors(tmp_path)
    message = str(info.value)
    assert message.startswith(f"{tmp_path / relpath}:{line}: ")
    assert problem in message
    assert info.value.line == line


def test_multiline_record_reports_its_first_line(tmp_path: Path) -> None:
    write_dataset(tmp_path)
    path = tmp_path / "deepse" / "alpha.csv"
    lines = path.read_text().splitlines()
    lines[2] = 'ALPHA-1,"a title","a description\nover two lines",oops'
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DatasetFormatError, match=r"alpha\.csv:3: story points 'oops'"):
        load_projects(tmp_path, ["alpha"])


def test_split_file_row_count_must_match(tmp_path: Path) -> None:
    write_dataset(tmp_path)
    path = tmp_path / "deepse" / "original_splits" / "alpha_3sets.txt"
    path.write_text("\n".join(path.read_text().splitlines()[:-3]) + "\n")
    with pytest.raises(DatasetFormatError, match="97 split rows but alpha.csv has 100 issues"):
        load_projects(tmp_path, ["alpha"])


def test_tawosi_split_rule_matches_deepse_script() -> None:
    splits = tawosi_splits(241)
    assert splits.count("train") == 143 and splits.count("valid") == 48 and splits.count("test") == 50
