"""The stand-up, risk and retro replay scorers: end to end on the tiny dataset, and by hand-made cases."""

from __future__ import annotations

from pathlib import Path

import pytest

from evals.converters.koralage import convert_koralage
from evals.datasets.sprints import load_koralage
from evals.replay.harness import ReplayConfig, replay
from evals.replay.observations import (
    OpenTask,
    RetroNumbers,
    RetroObservation,
    RetroTruth,
    RiskObservation,
    SprintAgentsObservation,
    SprintObservation,
    StandupObservation,
)
from evals.replay.run import run_replay
from evals.replay.scorer_retro import score_retro
from evals.replay.scorer_risk import RISK_THRESHOLD, score_risk
from evals.replay.scorer_standup import largest, score_standup
from evals.replay.sprint_agents import mid_sprint_day
from tests.evals.synthetic import koralage_dir


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tiny")
    koralage_dir(root, sprints=3)
    return root


def test_replay_runs_the_three_agents_and_scores_them(tiny: Path, tmp_path: Path) -> None:
    kw = {"project": "Tiny", "seed": 0, "history": 2, "triage": False, "charts": False}
    report_a, result = run_replay(tiny, out_dir=tmp_path / "a", **kw)  # type: ignore[arg-type]
    report_b, _ = run_replay(tiny, out_dir=tmp_path / "b", **kw)  # type: ignore[arg-type]
    assert (tmp_path / "a" / "report.json").read_bytes() == (tmp_path / "b" / "report.json").read_bytes()
    assert report_a == report_b

    names = [s["name"] for s in report_a["sections"]]
    assert {"planner", "standup", "risk", "retro"} <= set(names) and "triage" not in names
    recordings = {r.id: r for r in convert_koralage(load_koralage(tiny, "Tiny"))}
    for o in result.sprints:
        a = o.agents
        assert a is not None and a.standup is not None and a.risk is not None and a.retro is not None
        rs = recordings[o.id]
        assert a.mid_day == mid_sprint_day(rs) == rs.length_days // 2
        assert a.standup.status == "done" and a.standup.error is None
        assert a.risk.status == "done" and a.risk.error is None
        # The retro's task and action items need approval: the run waits, nothing is approved.
        assert a.retro.status == "awaiting_approval"
        done = set(rs.outcome.completed_items)
        assert a.open_tasks and all(t.failed == (t.task not in done) for t in a.open_tasks)
        assert set(a.standup.flagged) <= {t.task for t in a.open_tasks}
        # Added members are known to the retro through the added_to_project story the replay writes.
        assert a.retro.added == a.retro_truth.added != []  # type: ignore[union-attr]

    retro = report_a["scores"]["retro"]
    assert retro["sprints"] == 3 and retro["all_match"] == 3 and retro["item_sets_match"] == 3
    standup = report_a["scores"]["standup"]
    assert standup["sprints"] == 3 and standup["run_errors"] == 0
    assert standup["base_rate"] is not None and 0 < standup["base_rate"] <= 1
    risk = report_a["scores"]["risk"]
    assert risk["sprints"] == 3 and risk["threshold"] == RISK_THRESHOLD
    md = (tmp_path / "a" / "report.md").read_text()
    for title in ("Stand-up at-risk flags", "Risk Score ≥", "Retro numbers vs the recorded outcome"):
        assert title in md
    assert "naive: every open task" in md and "naive: largest open tasks" in md


def test_extra_agents_can_be_switched_off(tiny: Path) -> None:
    sprints = convert_koralage(load_koralage(tiny, "Tiny"))
    config = ReplayConfig(history=1, triage=False, standup=False, risk=False, retro=False)
    result = replay(sprints, config, only={2})
    assert result.sprints[0].agents is None
    assert result.sprints[0].planner is not None
    # The scorers still render a (empty) section for such observations.
    assert score_retro(result.sprints).summary["sprints"] == 0
    assert score_standup(result.sprints).summary["sprints"] == 0


def _obs(seq: int, agents: SprintAgentsObservation) -> SprintObservation:
    return SprintObservation(
        id=f"s{seq}",
        sequence=seq,
        name=f"Sprint {seq}",
        start_on="2013-04-01",
        end_on="2013-04-14",
        history_sprints=1,
        last_velocity=None,
        actual_completed_points=0.0,
        actual_completed_items=[],
        starting_scope=[],
        agents=agents,
    )


OPEN = [
    OpenTask(task="A", points=8, started=True, failed=True),
    OpenTask(task="B", points=5, started=False, failed=False),
    OpenTask(task="C", points=3, started=True, failed=True),
    OpenTask(task="D", points=1, started=False, failed=False),
]


def test_standup_and_risk_precision_recall_against_baselines() -> None:
    agents = SprintAgentsObservation(
        mid_day=7,
        open_tasks=OPEN,
        standup=StandupObservation(status="done", day=7, flagged={"A": ["capacity"], "B": ["capacity"]}),
        risk=RiskObservation(status="done", day=7, scores={"C": RISK_THRESHOLD, "D": RISK_THRESHOLD - 1}),
    )
    failed = _obs(2, SprintAgentsObservation(mid_day=7, open_tasks=OPEN, standup=None))
    failed.agents.standup = StandupObservation(status="error", error="boom", day=7)  # type: ignore[union-attr]
    sec = score_standup([_obs(1, agents), failed])
    rows = {row[0]: row for row in sec.metrics.rows}
    # columns: predictor, sprints, flagged, hits, precision, recall, F1
    assert rows["stand-up: flagged at risk (any kind)"][1:6] == [1, 2, 1, 0.5, 0.5]
    assert rows["naive: every open task"][2:6] == [4, 2, 0.5, 1.0]
    assert rows["naive: largest open tasks (same count)"][2:6] == [2, 1, 0.5, 0.5]  # A and B
    assert rows["derived start days alone: started (In Progress) at mid-sprint"][2:6] == [2, 2, 1.0, 1.0]
    assert sec.summary["run_errors"] == 1
    risk = score_risk([_obs(1, agents)])
    assert risk.summary["flagged"] == 1 and risk.summary["precision"] == 1.0 and risk.summary["recall"] == 0.5
    assert largest(OPEN, 1) == {"A"} and largest(OPEN, 0) == set()


def _numbers(**over: float) -> RetroNumbers:
    base = {
        "committed_items": 6,
        "committed_points": 20.0,
        "added_items": 2,
        "added_points": 7.0,
        "completed_items": 5,
        "completed_points": 19.0,
        "carry_over_items": 3,
        "carry_over_points": 8.0,
    }
    return RetroNumbers.model_validate(base | over)


def test_retro_counts_exact_matches_and_explains_mismatches() -> None:
    def truth(report: float, items: float) -> RetroTruth:
        return RetroTruth(
            numbers=_numbers(completed_points=report),
            completed_points_report=report,
            completed_points_items=items,
            punted_items=1,
            punted_points=3.0,
            completed=["A"],
            carry_over=["B"],
            added=["C"],
        )

    def retro(numbers: RetroNumbers, carry: list[str]) -> RetroObservation:
        return RetroObservation(
            status="awaiting_approval", numbers=numbers, completed=["A"], carry_over=carry, added=["C"]
        )

    exact = SprintAgentsObservation(retro=retro(_numbers(), ["B"]), retro_truth=truth(19.0, 19.0))
    # The recording's item points sum to 24 while the sprint report says 19: a converter matter.
    converter = SprintAgentsObservation(
        retro=retro(_numbers(completed_points=24.0), ["B"]), retro_truth=truth(19.0, 24.0)
    )
    wrong = SprintAgentsObservation(
        retro=retro(_numbers(carry_over_items=4), ["B", "X"]), retro_truth=truth(19.0, 19.0)
    )
    broken = SprintAgentsObservation(
        retro=RetroObservation(status="error", error="no sprint"), retro_truth=truth(19.0, 19.0)
    )
    sec = score_retro([_obs(1, exact), _obs(2, converter), _obs(3, wrong), _obs(4, broken)])
    assert sec.summary["sprints"] == 3 and sec.summary["all_match"] == 1 and sec.summary["run_errors"] == 1
    assert sec.summary["completed_points_exact"] == 2 and sec.summary["carry_over_items_exact"] == 2
    assert sec.summary["item_sets_match"] == 2
    mism = sec.tables[0].rows
    assert mism[0][:5] == ["Sprint 2", "completed_points", 24.0, 19.0, 5.0] and "converter" in mism[0][5]
    assert mism[1][:2] == ["Sprint 3", "carry_over_items"] and mism[1][5] == "retro ≠ recording"
    assert mism[2][:2] == ["Sprint 3", "item sets"]

    # An item closed in an earlier sprint still counts as completed: the cause names the retro's rule.
    early_truth = truth(19.0, 19.0).model_copy(update={"closed_before_start": ["E"]})
    early = RetroObservation(
        status="awaiting_approval",
        numbers=_numbers(completed_items=6),
        completed=["A", "E"],
        carry_over=["B"],
        added=["C"],
    )
    sec = score_retro([_obs(5, SprintAgentsObservation(retro=early, retro_truth=early_truth))])
    row = sec.tables[0].rows[0]
    assert row[:2] == ["Sprint 5", "completed_items"] and "E closed in an earlier sprint" in row[5]
