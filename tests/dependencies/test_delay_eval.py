"""The EMSE2017 delay eval: finds the projects present, no future outcome in history, clear errors."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

import evals.delays as delays
from evals.datasets.csvrows import DatasetError
from evals.datasets.delays import DelayRow, discover_projects, load_delays
from tools.delay_risk.model import ModelConfig
from tools.errors import UserError

HEADER = (
    "issuekey,delaydays,openeddate,type,discussion,repetition,perofdelay,workload,priority,no_comment,"
    "no_priority_change,no_fixversion,no_fixversion_change,no_issuelink,no_blocking,no_blockedby,"
    "no_affectversion,reporterrep,no_des_change,ProgressTime,RemainingDay,topic_10,topic_100,topic_200,"
    "topic_300,topic_400"
)


def _write_project(folder: Path, name: str, n: int, seed: int) -> None:
    """Short runways are late (a planted signal); one issue a day."""
    rng = random.Random(seed)
    lines = [HEADER]
    start = datetime(2010, 1, 1)
    for i in range(n):
        runway = rng.randint(0, 40)
        late = runway < 12 or rng.random() < 0.05
        opened = (start + timedelta(days=i)).strftime("%Y-%m-%d %H:%M:%S")
        delay = rng.randint(1, 20) if late else 0
        lines.append(
            f'{name.upper()}-{i + 1},{delay},"{opened}",Bug,0,0,10,3,Major,1,0,1,0,0,0,0,1,0.2,0,0,'
            f"{runway},{rng.randint(1, 10)},1,1,1,1"
        )
    (folder / f"{name}_due.csv").write_text("\n".join(lines) + "\n")


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "delays" / "emse2017"
    folder.mkdir(parents=True)
    _write_project(folder, "alpha", 160, seed=1)
    _write_project(folder, "beta", 150, seed=2)
    (folder / "notes.txt").write_text("not a project")
    # Small trees keep the test to seconds; the protocol is what is under test.
    monkeypatch.setitem(
        delays.VARIANTS,
        "blend",
        replace(
            delays.VARIANTS["blend"], config=ModelConfig(max_iter=30, forest_trees=15, min_samples_leaf=5)
        ),
    )
    return tmp_path


def test_finds_the_projects_present_and_reports_both_feature_sets(data: Path) -> None:
    assert discover_projects(data) == ["alpha", "beta"]
    summary = delays.run(data, temporal=True)
    assert summary["found"] == ["alpha", "beta"]
    assert [p["project"] for p in summary["projects"]] == ["alpha", "beta"]
    for p in summary["projects"]:
        assert p["temporal"] and p["temporal_asana"]
        assert p["temporal"]["train"] == int(p["issues"] * 0.8)
    # The planted signal (the runway) is Asana-readable, so both feature sets find it.
    assert summary["mean_temporal_asana"]["auc"] > 0.8
    table = delays.format_table(summary)
    assert "projects found: alpha, beta" in table and "Asana-readable" in table
    inner = delays.run(data, ["beta"], inner=True)
    assert "mean" not in inner and inner["projects"][0]["temporal"]["train"] == int(int(150 * 0.8) * 0.8)


def test_history_features_never_see_a_later_outcome(data: Path) -> None:
    rows = load_delays(data, "alpha")
    records = delays.with_history(rows)
    # Flip the outcome of the last issue: no record before it may change.
    last = rows[-1]
    flipped = [*rows[:-1], DelayRow.model_validate({**last.model_dump(by_alias=True), "delaydays": 99.0})]
    again = delays.with_history(flipped)
    assert records[:-1] == again[:-1]
    assert records[0]["team_late_share"] is None  # nothing has settled before the first issue


def test_prompt_late_history_never_sees_a_later_outcome_either(data: Path) -> None:
    rows = load_delays(data, "alpha")
    records = delays.with_history(rows, prompt_late=True)
    last = rows[-1]
    flipped = [*rows[:-1], DelayRow.model_validate({**last.model_dump(by_alias=True), "delaydays": 99.0})]
    assert records[:-1] == delays.with_history(flipped, prompt_late=True)[:-1]
    # A late issue is known late the day after its due date, its delay only at resolution.
    late = next(r for r in rows if r.delaydays > 1)
    item = delays.history_items([late], prompt_late=True)[0]
    assert item.resolved_day is not None and item.settled_day == item.resolved_day - late.delaydays + 1
    assert delays.history_items([late])[0].settled_day == item.resolved_day


def test_variants_add_only_the_candidate_features_they_name() -> None:
    from tools.delay_risk.features import ABSOLUTE_DATES, FEATURE_NAMES
    from tools.delay_risk.history import CANDIDATE_FEATURES, HISTORY_FEATURES, OVERDUE_FEATURES

    chosen = delays.VARIANTS[delays.DEFAULT_VARIANT]
    names = chosen.features(FEATURE_NAMES)
    assert chosen.prompt_late and set(OVERDUE_FEATURES) <= set(names)
    assert not (set(CANDIDATE_FEATURES) - set(OVERDUE_FEATURES)) & set(names)
    assert not set(ABSOLUTE_DATES) & set(names)
    before = delays.VARIANTS["blend-round2"].features(FEATURE_NAMES)
    assert not set(CANDIDATE_FEATURES) & set(before) and set(HISTORY_FEATURES) <= set(before)
    assert set(CANDIDATE_FEATURES) <= set(delays.VARIANTS["boosted-prompt-all"].features(FEATURE_NAMES))
    bare = delays.VARIANTS["blend-nohistory"].features(FEATURE_NAMES)
    assert not set(HISTORY_FEATURES) & set(bare) and set(ABSOLUTE_DATES) <= set(bare)


def test_missing_or_empty_folder_is_one_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(DatasetError, match="dataset folder not found"):
        delays.run(tmp_path / "nowhere")
    (tmp_path / "emse2017").mkdir()
    assert delays.main(["--data", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no <project>_due.csv files found" in err


def test_unknown_project_is_named(data: Path) -> None:
    with pytest.raises(DatasetError, match="no file for project\\(s\\): gamma"):
        delays.run(data, ["gamma"])
    with pytest.raises(UserError, match="unknown delay-risk variant 'nope'"):
        delays.run(data, variant="nope")


def test_time_ordered_splits_drop_absolute_dates_unless_the_variant_keeps_them(
    data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tools.delay_risk.features import ABSOLUTE_DATES

    used: list[tuple[str, ...]] = []
    real = delays._time_split

    def spy(*args: object, **kwargs: object) -> object:
        config = args[3]
        assert isinstance(config, ModelConfig)
        used.append(config.features)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(delays, "_time_split", spy)
    small = ModelConfig(max_iter=30, forest_trees=15, min_samples_leaf=5)
    monkeypatch.setitem(delays.VARIANTS, "blend-dates", delays.Variant(small, dates=True))
    delays.run(data, ["alpha"], temporal=True)
    assert len(used) == 2 and not any(set(ABSOLUTE_DATES) & set(f) for f in used)
    used.clear()
    delays.run(data, ["alpha"], temporal=True, variant="blend-dates")
    assert all(set(ABSOLUTE_DATES) <= set(f) for f in used)
