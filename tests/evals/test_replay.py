"""Replay of a tiny synthetic Koralage project: end to end, scored, and byte-identical when repeated."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from evals.replay.run import parse_selection, run_replay
from evals.replay.scorers import register_scorer, run_scorers, scorer_names
from service.cli.eval_replay import replay
from tests.evals.synthetic import koralage_dir


def test_replay_is_identical_when_run_twice(tmp_path: Path) -> None:
    koralage_dir(tmp_path / "data", sprints=4)
    kw = {"project": "Tiny", "seed": 0, "history": 3}
    report_a, result = run_replay(tmp_path / "data", out_dir=tmp_path / "a", **kw)  # type: ignore[arg-type]
    report_b, _ = run_replay(tmp_path / "data", out_dir=tmp_path / "b", charts=False, **kw)  # type: ignore[arg-type]
    assert (tmp_path / "a" / "report.json").read_bytes() == (tmp_path / "b" / "report.json").read_bytes()
    assert report_a == report_b

    planner = report_a["scores"]["planner"]
    assert planner["sprints"] == 3  # sprint 1 has no history to predict from
    assert planner["planner_mae"] is not None and planner["baseline_mae"] is not None
    sprints = result.sprints
    assert all(s.planner is not None and s.planner.status == "awaiting_approval" for s in sprints)
    assert sprints[1].planner.capacity == sprints[0].actual_completed_points  # type: ignore[union-attr]
    assert sprints[2].planner.chosen  # type: ignore[union-attr]
    triage = report_a["scores"]["triage"]
    assert triage["runs"] > 0 and triage["run_errors"] == 0
    rows = [t for s in sprints for t in s.triage]
    assert rows and all(t.fields_written >= 3 and t.comment_posted for t in rows)
    md = (tmp_path / "a" / "report.md").read_text()
    assert "| naive: last sprint's velocity" in md and "MAE (points)" in md
    for png in (
        "planner_predicted_vs_actual.png",
        "planner_error_histogram.png",
        "triage_error_histogram.png",
    ):
        assert (tmp_path / "a" / png).read_bytes()[:4] == b"\x89PNG"


def test_selection_and_cli_json(tmp_path: Path) -> None:
    koralage_dir(tmp_path / "data", sprints=3)
    app = typer.Typer()
    app.command("replay")(replay)

    @app.callback()
    def _root() -> None:
        pass

    out = CliRunner().invoke(
        app,
        ["replay", "--data", str(tmp_path / "data"), "--project", "Tiny", "--sprints", "2-3",
         "--out", str(tmp_path / "o"), "--no-triage", "--json"],
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    report = json.loads(out.stdout)
    assert [s["sequence"] for s in report["sprints"]] == [2, 3]
    assert report["sprints"][0]["history_sprints"] == 1  # sprint 1 still serves as history
    assert "triage" not in report["scores"]

    bad = CliRunner().invoke(app, ["replay", "--data", str(tmp_path / "missing")])
    assert bad.exit_code == 1 and "dataset folder not found" in bad.output


def test_parse_selection_rejects_nonsense(tmp_path: Path) -> None:
    import pytest

    from evals.converters.koralage import convert_koralage
    from evals.datasets.sprints import load_koralage
    from tools.errors import UserError

    koralage_dir(tmp_path, sprints=2)
    sprints = convert_koralage(load_koralage(tmp_path, "Tiny"))
    assert parse_selection("Sprint 2", sprints) == {2}
    assert parse_selection("1-9", sprints) == {1, 2}
    with pytest.raises(UserError, match="neither"):
        parse_selection("last", sprints)
    with pytest.raises(UserError, match="selects none"):
        parse_selection("7", sprints)


def test_scorers_are_pluggable() -> None:
    from evals.replay import scorers
    from evals.replay.scorers import ScoreSection, Table

    @register_scorer("count_only")
    def count(obs):  # type: ignore[no-untyped-def]
        return ScoreSection(
            name="count_only", title="Count", metrics=Table(title="n", columns=["n"], rows=[[len(obs)]])
        )

    try:
        assert "count_only" in scorer_names()
        assert run_scorers([], ["count_only"])[0].metrics.rows == [[0]]
    finally:
        scorers._SCORERS.pop("count_only")
