"""Loaders read the native formats and reject malformed files naming the file and the line."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from evals.datasets.csvrows import DatasetError
from evals.datasets.delays import load_delays
from evals.datasets.sentiment import load_deva, load_polarity
from evals.datasets.sprints import load_koralage, load_tse2017
from tests.evals.synthetic import koralage_dir, tse_dir

DELAY_HEADER = (
    "issuekey,delaydays,openeddate,type,discussion,repetition,perofdelay,workload,priority,no_comment,"
    "no_priority_change,no_fixversion,no_fixversion_change,no_issuelink,no_blocking,no_blockedby,"
    "no_affectversion,reporterrep,no_des_change,ProgressTime,RemainingDay,topic_10,topic_100,topic_200,"
    "topic_300,topic_400"
)


def _replace_line(path: Path, line_no: int, text: str) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[line_no - 1] = text
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_koralage_native_format(tmp_path: Path) -> None:
    koralage_dir(tmp_path, sprints=2)
    project = load_koralage(tmp_path, "Tiny")
    assert [s.name for s in project.sprints] == ["Sprint 1", "Sprint 2"]
    assert project.sprints[0].start == date(2013, 4, 1) and project.sprints[0].end == date(2013, 4, 15)
    members = project.members(101)
    assert len(members) == 8
    # upstream spelling "CompletedInNotherSprint" is normalised
    assert {m.status for m in members} == {
        "Completed",
        "Punted",
        "CompletedInAnotherSprint",
        "NotCompletedWithinSprint",
    }
    assert project.issues["TY-1"].description is None  # "null" → None
    assert "Acceptance criteria" in (project.issues["TY-2"].description or "")


def test_koralage_bad_date_names_file_and_line(tmp_path: Path) -> None:
    folder = koralage_dir(tmp_path, sprints=2)
    path = folder / "sprints.csv"
    row = path.read_text().splitlines()[2].split(",")
    row[3] = "2013-04-15"
    _replace_line(path, 3, ",".join(row))
    with pytest.raises(DatasetError, match=r"sprints\.csv line 3: column 'sprintStartDate'.*15-Apr-13"):
        load_koralage(tmp_path, "Tiny")


def test_koralage_missing_column_and_ragged_row(tmp_path: Path) -> None:
    folder = koralage_dir(tmp_path, sprints=1)
    members = folder / "sprint_issue_membership.csv"
    header = members.read_text().splitlines()[0]
    _replace_line(members, 1, header.replace(",currentStoryPoint", ",points"))
    with pytest.raises(
        DatasetError, match=r"sprint_issue_membership\.csv line 1: missing column\(s\): currentStoryPoint"
    ):
        load_koralage(tmp_path, "Tiny")
    _replace_line(members, 1, header)
    _replace_line(members, 4, "7,101,Completed,1003")
    with pytest.raises(
        DatasetError, match=r"sprint_issue_membership\.csv line 4: expected 10 cells, found 4"
    ):
        load_koralage(tmp_path, "Tiny")


def test_koralage_unknown_status(tmp_path: Path) -> None:
    folder = koralage_dir(tmp_path, sprints=1)
    members = folder / "sprint_issue_membership.csv"
    _replace_line(members, 2, members.read_text().splitlines()[1].replace("Completed", "Finished", 1))
    with pytest.raises(DatasetError, match=r"line 2: column 'status'"):
        load_koralage(tmp_path, "Tiny")


def test_tse2017_rows_and_derived_points(tmp_path: Path) -> None:
    tse_dir(tmp_path)
    data = load_tse2017(tmp_path, "Tiny", 0)
    first, second = data.iterations
    assert first.committed == 17 and first.delivered == 10
    assert second.name == "Babbage, RC1" and second.committed == 4 and second.delivered == 36
    assert data.issues[0].priority == "Blocker" and data.links[0].name == "is blocked by"


def test_tse2017_malformed_number(tmp_path: Path) -> None:
    folder = tse_dir(tmp_path)
    path = folder / "tiny_iteration_0.csv"
    _replace_line(path, 2, "5,7,Sprint 1,lots,14,4,17,0,0,0,0,4,17,0,0,0,0,1,1")
    with pytest.raises(DatasetError, match=r"tiny_iteration_0\.csv line 2: column 'vel_diff'"):
        load_tse2017(tmp_path, "Tiny", 0)
    with pytest.raises(ValueError, match="prediction time"):
        load_tse2017(tmp_path, "Tiny", 40)


def test_delays(tmp_path: Path) -> None:
    folder = tmp_path / "delays" / "emse2017"
    folder.mkdir(parents=True)
    good = 'CONF-1,372,"2004-08-25 00:00:00",Suggestion,0,0,0,1,NULL,0,0,0,0,0,0,0,1,0,0,0,6,9,61,88,272,346'
    (folder / "tiny_due.csv").write_text(f"{DELAY_HEADER}\n{good}\n")
    rows = load_delays(tmp_path, "tiny")
    assert rows[0].delayed and rows[0].priority is None and rows[0].topics["topic_400"] == 346
    (folder / "tiny_due.csv").write_text(f"{DELAY_HEADER}\n{good}\n{good.replace('372', '-3', 1)}\n")
    with pytest.raises(DatasetError, match=r"tiny_due\.csv line 3: column 'delaydays'"):
        load_delays(tmp_path, "tiny")


def test_sentiment(tmp_path: Path) -> None:
    folder = tmp_path / "sentiment"
    folder.mkdir()
    (folder / "jira_polarity_shared.csv").write_text('id,text,label,polarity\n1,"Thanks, great",1,positive\n')
    (folder / "jira_deva_shared.csv").write_text("id,text,emotion\n0,It's a cabal! :),Excited\n")
    assert load_polarity(tmp_path)[0].polarity == "positive"
    assert load_deva(tmp_path)[0].emotion == "Excited"
    (folder / "jira_polarity_shared.csv").write_text(
        "id,text,label,polarity\n1,ok,1,positive\n2,meh,-1,neutral\n"
    )
    with pytest.raises(DatasetError, match=r"jira_polarity_shared\.csv line 3: .*does not match"):
        load_polarity(tmp_path)
    (folder / "jira_deva_shared.csv").write_bytes(b"id,text,emotion\n0,\xff\xfe,Excited\n")
    with pytest.raises(DatasetError, match=r"jira_deva_shared\.csv: not valid UTF-8"):
        load_deva(tmp_path)


def test_missing_folder_is_clear(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="dataset folder not found"):
        load_tse2017(tmp_path, "Nope", 0)
