"""The scorecard's metrics on hand-made predictions and outcomes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tools.scorecard.compute import compute_scorecard
from tools.scorecard.models import (
    BandPrediction,
    EstimatePrediction,
    FlagRound,
    Nudge,
    Outcomes,
    Predictions,
    ProposedAction,
)
from tools.scorecard.report import markdown

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def _card(p: Predictions, o: Outcomes):  # type: ignore[no-untyped-def]
    return compute_scorecard(p, o, source="hand-made")


def test_estimate_error_counts_only_known_actuals() -> None:
    p = Predictions(
        estimates=[
            EstimatePrediction(agent="triage", what="story points", subject="a", estimate=3, low=2, high=5),
            EstimatePrediction(agent="triage", what="story points", subject="b", estimate=8, low=5, high=8),
            EstimatePrediction(agent="triage", what="story points", subject="c", estimate=2),
            EstimatePrediction(agent="triage", what="story points", subject="open", estimate=5),
        ]
    )
    o = Outcomes(actuals={"a": 5, "b": 3, "c": 2})
    (e,) = _card(p, o).estimates
    assert (e.n, e.pending) == (3, 1)
    assert e.mae == pytest.approx((2 + 5 + 0) / 3)
    assert e.bias == pytest.approx((-2 + 5 + 0) / 3)
    assert e.mdae == 2
    assert e.within_range == pytest.approx(1 / 3)  # a inside [2, 5]; b outside; c had no range
    single = Predictions(
        estimates=[EstimatePrediction(agent="planner", what="sprint velocity", subject="a", estimate=4)]
    )
    assert _card(single, o).estimates[0].within_range is None  # no range was ever given


def test_flag_precision_and_recall_per_round_against_what_slipped() -> None:
    p = Predictions(
        flags=[
            FlagRound(
                agent="standup",
                what="at risk",
                round="r1",
                population=["a", "b", "c", "d"],
                flagged=["a", "b"],
            ),
            FlagRound(agent="standup", what="at risk", round="r2", population=["a", "e"], flagged=["e"]),
            FlagRound(
                agent="standup", what="at risk", round="r3", population=["x"], flagged=["x"]
            ),  # unsettled
            FlagRound(agent="standup", what="at risk", round="r4", population=[], flagged=[]),  # none open
        ]
    )
    # r1: a slipped (hit), b finished (false alarm), c slipped unflagged (miss), d not settled yet.
    # r2: a slipped there too but was not flagged (miss), e slipped and was flagged (hit).
    o = Outcomes(
        settled={"r1": ["a", "b", "c"], "r2": ["a", "e"]},
        slipped={"r1": ["a", "c"], "r2": ["a", "e"]},
    )
    (f,) = _card(p, o).flags
    assert (f.rounds, f.pending, f.flagged, f.hits, f.slipped) == (3, 1, 3, 2, 4)
    assert f.precision == pytest.approx(2 / 3)
    assert f.recall == pytest.approx(2 / 4)
    assert f.f1 == pytest.approx(2 * (2 / 3) * 0.5 / (2 / 3 + 0.5))


def test_forecast_calibration_is_the_share_inside_p10_p90() -> None:
    bands = [(10, 20, 30, 25), (10, 20, 30, 5), (10, 20, 30, 31), (10, 20, 30, 10), (10, 20, 30, None)]
    p = Predictions(
        bands=[
            BandPrediction(agent="forecast", subject=f"s{i}", p10=lo, p50=mid, p90=hi)
            for i, (lo, mid, hi, _) in enumerate(bands)
        ]
    )
    o = Outcomes(actuals={f"s{i}": a for i, (*_, a) in enumerate(bands) if a is not None})
    (c,) = _card(p, o).calibration
    assert (c.n, c.pending) == (4, 1)
    assert (c.inside_p10_p90, c.below_p10, c.above_p90) == (0.5, 0.25, 0.25)
    assert c.p50_mae == pytest.approx((5 + 15 + 11 + 10) / 4)


def test_a_nudge_counts_when_one_of_its_tasks_changed_within_a_day() -> None:
    now = T0 + timedelta(days=3)
    p = Predictions(
        nudges=[
            Nudge(agent="standup", person="p1", tasks=["a", "b"], at=T0),  # b changed 5 h later: followed
            Nudge(agent="standup", person="p2", tasks=["c"], at=T0),  # changed after 30 h: not followed
            Nudge(
                agent="standup", person="p3", tasks=["d"], at=T0
            ),  # a change before the nudge: not followed
            Nudge(agent="standup", person="p1", tasks=["a"], at=now - timedelta(hours=2)),  # too recent
        ]
    )
    o = Outcomes(
        now=now,
        changes={
            "b": [T0 + timedelta(hours=5)],
            "c": [T0 + timedelta(hours=30)],
            "d": [T0 - timedelta(hours=1)],
        },
    )
    (n,) = _card(p, o).nudges
    assert (n.nudges, n.pending, n.followed) == (4, 1, 1)
    assert n.rate == pytest.approx(1 / 3)


def test_approval_and_rejection_rates_by_agent_and_kind() -> None:
    p = Predictions(
        actions=[
            ProposedAction(agent="planner", kind="create_project", decision="approved"),
            ProposedAction(agent="planner", kind="add_to_project", decision="approved"),
            ProposedAction(agent="planner", kind="add_to_project", decision="edited"),
            ProposedAction(agent="planner", kind="add_to_project", decision="rejected"),
            ProposedAction(agent="planner", kind="add_to_project", decision="undecided"),
            ProposedAction(agent="retro", kind="create_task", decision="rejected"),
        ]
    )
    card = _card(p, Outcomes())
    by = {(d.agent, d.kind): d for d in card.decisions}
    add = by[("planner", "add_to_project")]
    assert (add.proposed, add.approved, add.edited, add.rejected, add.undecided) == (4, 2, 1, 1, 1)
    assert add.approval_rate == pytest.approx(2 / 3) and add.rejection_rate == pytest.approx(1 / 3)
    assert by[("retro", "create_task")].rejection_rate == 1.0
    assert by[("planner", "create_project")].approval_rate == 1.0
    rows = {(r.agent, r.metric): r for r in card.rows()}
    assert rows[("planner", "add_to_project_approval_rate")].n == 3
    text = markdown(card, "Scorecard")
    assert "| planner | add_to_project | 4 | 2 | 1 | 1 | 1 | 67% | 33% |" in text


def test_nothing_to_score_says_so() -> None:
    card = _card(Predictions(), Outcomes())
    assert card.rows() == []
    assert "No prediction of sprintpilot's can be scored yet." in markdown(card, "Scorecard")
