"""On the recorded Spring XD sprints, the scorecard computed by replay equals the replay scorers.

Both go through `tools.scorecard` (the scorers' metric functions, the scorecard's computation),
so the equality is structural; these tests hold it on the real recordings. The default run
replays one sprint (and scores the forecast on all 66 without agents); the full slice is `slow`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from evals.replay.observations import SprintObservation
from evals.replay.run import load_recordings, run_replay
from evals.replay.scorecard import compare, replay_scorecard
from evals.replay.scorer_forecast import score_forecast
from service.cli.main import app

DATA = Path(
    os.environ.get("SPRINTPILOT_DATASETS", Path(__file__).resolve().parents[3] / "shared" / "datasets")
)
SPRINTS = DATA / "sprints"

needs_data = pytest.mark.skipif(
    not (SPRINTS / "koralage2020" / "SpringXD").is_dir(), reason="the Spring XD recordings are not here"
)


def _replayed(selection: str, tmp: Path) -> tuple[dict, list[SprintObservation]]:  # type: ignore[type-arg]
    report, result = run_replay(SPRINTS, out_dir=tmp, selection=selection, retro=False, charts=False)
    return report["scores"], result.sprints


def _assert_equal(scores: dict, obs: list[SprintObservation]) -> None:  # type: ignore[type-arg]
    card = replay_scorecard(obs)
    pairs = compare(card, scores)
    assert {m.split(":")[0] for m, _, _ in pairs} >= {
        "planner",
        "triage",
        "standup",
        "dependencies",
        "forecast",
    }
    assert [(m, a) for m, a, _ in pairs] == [(m, b) for m, _, b in pairs]


@needs_data
def test_a_replayed_sprint_scores_the_same_both_ways() -> None:
    """Through the CLI: `scorecard --replay` replays, computes and compares in one command."""
    out = CliRunner().invoke(app, ["scorecard", "--replay", str(SPRINTS), "--sprints", "23", "--json"])
    assert out.exit_code == 0, out.output
    card = json.loads(out.stdout)
    pairs = card["replay_scorers"]
    assert {p["metric"].split(":")[0] for p in pairs} >= {"planner", "triage", "standup", "dependencies"}
    assert card["equal_to_replay_scorers"] is True
    assert all(p["scorer"] == p["scorecard"] for p in pairs)
    (triage,) = [e for e in card["estimates"] if e["agent"] == "triage"]
    (standup,) = [f for f in card["flags"] if f["agent"] == "standup"]
    assert triage["n"] > 0 and standup["flagged"] > 0 and standup["rounds"] == 1
    assert card["nudges"] == [] and card["decisions"] == []  # the replay nudges nobody, approves nothing


@needs_data
def test_forecast_calibration_on_all_spring_xd_sprints() -> None:
    sprints, _ = load_recordings(SPRINTS)
    obs = [
        SprintObservation(
            id=s.id,
            sequence=s.sequence,
            name=s.name,
            start_on=s.start_on.isoformat(),
            end_on=s.end_on.isoformat(),
            history_sprints=0,
            last_velocity=None,
            actual_completed_points=s.outcome.completed_points,
            actual_completed_items=[],
            starting_scope=[],
        )
        for s in sprints
    ]
    summary = score_forecast(obs).summary
    (cal,) = replay_scorecard(obs).calibration
    assert cal.n == summary["forecasts"] == len(obs) - 3  # every sprint from the 4th on
    pairs = compare(replay_scorecard(obs), {"forecast": summary})
    assert [m for m, _, _ in pairs] == ["forecast: inside P10–P90", "forecast: P50 MAE"]
    assert all(a == b for _, a, b in pairs), pairs
    assert summary["inside_p10_p90"] == 0.81  # the README's number


@needs_data
@pytest.mark.soak  # 16 sprints, ~90 s: `make soak`; `make test` keeps the one-sprint version above
def test_a_longer_slice_scores_the_same_both_ways(tmp_path: Path) -> None:
    scores, obs = _replayed("8-23", tmp_path)
    _assert_equal(scores, obs)
