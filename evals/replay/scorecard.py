"""The live scorecard computed by replay: the replay's observations as predictions and outcomes.

`replay_scorecard(observations)` feeds what the agents predicted in the replayed sprints (triage
estimates, the planner's capacity, the mid-sprint stand-up and dependency-scan flags, the rolling
velocity forecast) and what the recording says happened into `tools.scorecard.compute_scorecard`,
the computation the product runs on its own records. The replay scorers use the same metric
functions, so the two agree by construction (tests/scorecard/test_replay_equality.py checks it).
The replay approves nothing and sends no nudges, so those parts of the scorecard stay empty.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from evals.replay.observations import SprintObservation
from evals.replay.scorer_risk import risk_flags
from evals.replay.scorer_standup import standup_flags
from evals.replay.scorers import triage_pairs
from evals.sprints import rolling_calibration
from tools.scorecard.compute import compute_scorecard
from tools.scorecard.models import (
    BandPrediction,
    EstimatePrediction,
    FlagRound,
    Outcomes,
    Predictions,
    Scorecard,
)


def _sprint(o: SprintObservation) -> str:
    return f"sprint:{o.id}"


def replay_inputs(obs: Sequence[SprintObservation]) -> tuple[Predictions, Outcomes]:
    p, out = Predictions(), Outcomes()
    ordered = sorted(obs, key=lambda o: o.sequence)
    for o in ordered:
        out.actuals[_sprint(o)] = o.actual_completed_points
    for o in obs:
        if (
            o.planner
            and o.planner.capacity is not None
            and o.history_sprints > 0
            and o.last_velocity is not None
        ):
            p.estimates.append(
                EstimatePrediction(
                    agent="planner", what="sprint velocity", subject=_sprint(o), estimate=o.planner.capacity
                )
            )
    # The same pairs, in the same order, as the triage scorer.
    for i, (o, t) in enumerate(triage_pairs(obs)):
        subject = f"{o.id}:{t.task}:{i}"
        assert t.estimate is not None and t.actual is not None
        out.actuals[subject] = t.actual
        p.estimates.append(
            EstimatePrediction(
                agent="triage",
                what="story points",
                subject=subject,
                estimate=t.estimate,
                low=t.low,
                high=t.high,
            )
        )
    for agent, what, flag in (
        ("standup", "at risk", standup_flags),
        ("dependencies", "delay risk", risk_flags),
    ):
        for o in ordered:
            a = o.agents
            flagged = flag(o)
            if a is None or a.mid_day is None or flagged is None:
                continue  # not run for this sprint, or the run failed
            rnd = f"{o.id}:{agent}"
            population = [t.task for t in a.open_tasks]
            p.flags.append(
                FlagRound(agent=agent, what=what, round=rnd, population=population, flagged=sorted(flagged))
            )
            out.settled[rnd] = population  # the recording knows how every task ended
            out.slipped[rnd] = [t.task for t in a.open_tasks if t.failed]
    cal = rolling_calibration([o.actual_completed_points for o in ordered])
    for row in cal["rows"]:
        p.bands.append(
            BandPrediction(
                agent="forecast",
                subject=_sprint(ordered[row["index"]]),
                p10=row["p10"],
                p50=row["p50"],
                p90=row["p90"],
            )
        )
    return p, out


def replay_scorecard(obs: Sequence[SprintObservation]) -> Scorecard:
    predictions, outcomes = replay_inputs(obs)
    return compute_scorecard(predictions, outcomes, source=f"replay of {len(obs)} recorded sprint(s)")


def _get(items: Sequence[Any], agent: str) -> Any:
    return next((x for x in items if x.agent == agent), None)


def _r(x: float | None, digits: int = 2) -> float | None:
    return None if x is None else round(x, digits)


def compare(card: Scorecard, scores: dict[str, dict[str, Any]]) -> list[tuple[str, Any, Any]]:
    """(metric, the replay scorer's number, the scorecard's number, rounded alike) for every number
    both report; the scorers' report rounds to 2 digits (3 for calibration shares)."""
    pairs: list[tuple[str, Any, Any]] = []
    est = {(e.agent, e.what): e for e in card.estimates}
    if "planner" in scores:
        e = est.get(("planner", "sprint velocity"))
        pairs += [
            ("planner: velocity MAE", scores["planner"]["planner_mae"], _r(e.mae if e else None)),
            ("planner: velocity bias", scores["planner"]["planner_bias"], _r(e.bias if e else None)),
        ]
    if "triage" in scores:
        e = est.get(("triage", "story points"))
        pairs += [
            ("triage: story points MAE", scores["triage"]["triage_mae"], _r(e.mae if e else None)),
            (
                "triage: actual within range",
                scores["triage"]["within_range"],
                _r(e.within_range if e else None),
            ),
        ]
    for scorer, agent in (("standup", "standup"), ("risk", "dependencies")):
        if scorer in scores:
            f = _get(card.flags, agent)
            for metric in ("precision", "recall", "f1"):
                mine = getattr(f, metric) if f else None
                pairs.append((f"{agent}: flag {metric}", scores[scorer][metric], _r(mine)))
    if "forecast" in scores:
        c = _get(card.calibration, "forecast")
        pairs += [
            (
                "forecast: inside P10–P90",
                scores["forecast"]["inside_p10_p90"],
                _r(c.inside_p10_p90 if c else 0.0, 3),
            ),
            ("forecast: P50 MAE", scores["forecast"]["p50_mae"], _r(c.p50_mae if c else 0.0)),
        ]
    return pairs
