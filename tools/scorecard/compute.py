"""Predictions + outcomes → the per-agent scorecard (one computation for the product and the replay)."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from tools.scorecard.metrics import FlagTally, band_stats, estimate_stats
from tools.scorecard.models import (
    CalibrationScore,
    DecisionScore,
    EstimateScore,
    FeedbackScore,
    FlagScore,
    NudgeScore,
    Outcomes,
    Predictions,
    Scorecard,
)

FOLLOW_UP = timedelta(days=1)  # a nudge "led to a change" when one of its tasks changed within this


def score_estimates(p: Predictions, o: Outcomes) -> list[EstimateScore]:
    groups: dict[tuple[str, str], list[tuple[float, float, float | None, float | None]]] = defaultdict(list)
    pending: dict[tuple[str, str], int] = defaultdict(int)
    for e in p.estimates:
        key = (e.agent, e.what)
        actual = o.actuals.get(e.subject)
        if actual is None:
            pending[key] += 1
            continue
        groups[key].append((e.estimate, actual, e.low, e.high))
    out = []
    for key in sorted(set(groups) | set(pending)):
        stats = estimate_stats(groups.get(key, []))
        out.append(
            EstimateScore(
                agent=key[0],
                what=key[1],
                n=stats.n,
                pending=pending.get(key, 0),
                mae=stats.mae,
                bias=stats.bias,
                mdae=stats.mdae,
                within_range=stats.within_range,
            )
        )
    return out


def score_flags(p: Predictions, o: Outcomes) -> list[FlagScore]:
    tallies: dict[tuple[str, str], FlagTally] = {}
    pending: dict[tuple[str, str], int] = defaultdict(int)
    for r in p.flags:
        key = (r.agent, r.what)
        tally = tallies.setdefault(key, FlagTally())
        known = set(r.population) & set(o.settled.get(r.round, []))
        if r.population and not known:
            pending[key] += 1  # nothing settled yet (e.g. the sprint is still running)
            continue
        tally.add(set(r.flagged) & known, set(o.slipped.get(r.round, [])) & known)
    return [
        FlagScore(
            agent=key[0],
            what=key[1],
            rounds=t.rounds,
            pending=pending.get(key, 0),
            flagged=t.flagged,
            hits=t.hits,
            slipped=t.truth,
            precision=t.precision,
            recall=t.recall,
            f1=t.f1,
        )
        for key, t in sorted(tallies.items())
    ]


def score_bands(p: Predictions, o: Outcomes) -> list[CalibrationScore]:
    groups: dict[str, list[tuple[float, float, float, float]]] = defaultdict(list)
    pending: dict[str, int] = defaultdict(int)
    for b in p.bands:
        actual = o.actuals.get(b.subject)
        if actual is None:
            pending[b.agent] += 1
            continue
        groups[b.agent].append((b.p10, b.p50, b.p90, actual))
    out = []
    for agent in sorted(set(groups) | set(pending)):
        s = band_stats(groups.get(agent, []))
        out.append(
            CalibrationScore(
                agent=agent,
                n=s.n,
                pending=pending.get(agent, 0),
                inside_p10_p90=s.inside,
                below_p10=s.below,
                above_p90=s.above,
                p50_mae=s.p50_mae,
            )
        )
    return out


def score_nudges(p: Predictions, o: Outcomes) -> list[NudgeScore]:
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])  # nudges, pending, followed
    for n in p.nudges:
        c = counts[n.agent]
        c[0] += 1
        if o.now is not None and o.now < n.at + FOLLOW_UP:
            c[1] += 1
            continue
        if any(n.at < t <= n.at + FOLLOW_UP for task in n.tasks for t in o.changes.get(task, [])):
            c[2] += 1
    out = []
    for agent, (total, pending, followed) in sorted(counts.items()):
        judged = total - pending
        out.append(
            NudgeScore(
                agent=agent,
                nudges=total,
                pending=pending,
                followed=followed,
                rate=followed / judged if judged else None,
            )
        )
    return out


def score_decisions(p: Predictions) -> list[DecisionScore]:
    counts: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for a in p.actions:
        counts[(a.agent, a.kind)][a.decision] += 1
    out = []
    for (agent, kind), c in sorted(counts.items()):
        approved = c["approved"] + c["edited"]
        decided = approved + c["rejected"]
        out.append(
            DecisionScore(
                agent=agent,
                kind=kind,
                proposed=sum(c.values()),
                approved=approved,
                edited=c["edited"],
                rejected=c["rejected"],
                undecided=c["undecided"],
                approval_rate=approved / decided if decided else None,
                rejection_rate=c["rejected"] / decided if decided else None,
            )
        )
    return out


def score_feedback(o: Outcomes) -> list[FeedbackScore]:
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for said in o.people:
        counts[said.agent][said.verdict] += 1
    return [
        FeedbackScore(
            agent=agent,
            corrections=c["correction"],
            false_alarms=c["false_alarm"],
            misses=c["miss"],
            disagreements=c["disagree"],
        )
        for agent, c in sorted(counts.items())
    ]


def compute_scorecard(predictions: Predictions, outcomes: Outcomes, *, source: str) -> Scorecard:
    return Scorecard(
        source=source,
        estimates=score_estimates(predictions, outcomes),
        flags=score_flags(predictions, outcomes),
        calibration=score_bands(predictions, outcomes),
        nudges=score_nudges(predictions, outcomes),
        decisions=score_decisions(predictions),
        feedback=score_feedback(outcomes),
    )
