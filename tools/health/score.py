"""Portfolio health: a 0–100 score per team/project from five components, each shown with its share.

Components (each a 0–100 sub-score; weights are configurable and renormalised over the components
that have data, so a team without comments is not punished for silence):
- completion: points completed / committed over the window (capped at 100%).
- carry_over: 100 × (1 − share of sprint items not finished in their sprint).
- blockers: frequency (share of items that were Blocked) and duration (mean days Blocked, 10 days = 0).
- forecast_risk: 100 × probability that the team's usual commitment completes (Monte Carlo).
- sentiment: mean comment sentiment in −1..1 mapped to 0..100.
The score is the sum of the contributions (weight × sub-score), rounded so that the shown
contributions add up exactly to the shown score.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence

from pydantic import BaseModel, Field

from tools.forecast.montecarlo import completion_probability

DEFAULT_WEIGHTS: dict[str, float] = {
    "completion": 0.30,
    "carry_over": 0.15,
    "blockers": 0.20,
    "forecast_risk": 0.20,
    "sentiment": 0.15,
}
BLOCKED_DAYS_ZERO = 10.0  # a mean blocked period this long scores 0 on duration
WINDOW = 3
HEALTHY, WATCH = 70.0, 50.0


class SprintFacts(BaseModel):
    """What one past sprint contributes (plain numbers read from Asana or from a dataset)."""

    name: str
    committed_points: float = 0.0
    completed_points: float | None = 0.0  # None: points not recorded
    items: int = 0
    carried_items: int = 0
    blocked_items: int = 0
    blocked_days: list[float] = Field(default_factory=list)  # one entry per Blocked period
    sentiment: list[float] = Field(default_factory=list)  # comment scores in −1..1


class Component(BaseModel):
    name: str
    value: float | None  # sub-score 0..100; None = no data
    weight: float  # effective (renormalised) weight
    contribution: float
    detail: str


class HealthScore(BaseModel):
    score: float
    band: str  # healthy | watch | at_risk
    components: list[Component]
    sprints: list[str]

    @property
    def status_type(self) -> str:
        return {"healthy": "on_track", "watch": "at_risk"}.get(self.band, "off_track")


class HealthTrend(BaseModel):
    current: HealthScore
    history: list[tuple[str, float]]  # (sprint name, score with the window ending at it)
    slope_per_sprint: float


def _clip(x: float) -> float:
    return max(0.0, min(100.0, x))


def _subscores(
    window: Sequence[SprintFacts], history: Sequence[float | None]
) -> dict[str, tuple[float | None, str]]:
    committed = sum(s.committed_points for s in window)
    completed = sum(s.completed_points or 0.0 for s in window)
    items = sum(s.items for s in window)
    carried = sum(s.carried_items for s in window)
    blocked = sum(s.blocked_items for s in window)
    days = [d for s in window for d in s.blocked_days]
    moods = [m for s in window for m in s.sentiment]
    out: dict[str, tuple[float | None, str]] = {}
    out["completion"] = (
        (_clip(100 * completed / committed), f"{completed:g} of {committed:g} committed points completed")
        if committed > 0
        else (None, "no committed points")
    )
    out["carry_over"] = (
        (_clip(100 * (1 - carried / items)), f"{carried} of {items} items carried over")
        if items > 0
        else (None, "no sprint items")
    )
    if items > 0:
        freq = blocked / items
        mean_days = statistics.fmean(days) if days else 0.0
        value = _clip(100 * (1 - min(1.0, 2 * freq)) * (1 - 0.5 * min(1.0, mean_days / BLOCKED_DAYS_ZERO)))
        out["blockers"] = (value, f"{blocked} of {items} items blocked, mean {mean_days:.1f} days blocked")
    else:
        out["blockers"] = (None, "no sprint items")
    usable = [h for h in history if h is not None]
    commitments = [s.committed_points for s in window if s.committed_points > 0]
    if len(usable) >= 1 and commitments:
        target = statistics.median(commitments)
        p = completion_probability(history, target, runs=2000, seed=len(usable))
        out["forecast_risk"] = (100 * p, f"{p:.0%} chance the usual commitment ({target:g} points) completes")
    else:
        out["forecast_risk"] = (None, "no velocity history")
    out["sentiment"] = (
        (
            _clip(50 * (1 + statistics.fmean(moods))),
            f"mean comment sentiment {statistics.fmean(moods):+.2f} over {len(moods)} comments",
        )
        if moods
        else (None, "no comments")
    )
    return out


def health_score(
    sprints: Sequence[SprintFacts],
    *,
    weights: Mapping[str, float] | None = None,
    window: int = WINDOW,
) -> HealthScore:
    """Health from the last `window` sprints (oldest first); forecast risk uses all velocity history."""
    w = dict(weights or DEFAULT_WEIGHTS)
    unknown = set(w) - set(DEFAULT_WEIGHTS)
    if unknown:
        raise ValueError(f"unknown health components: {', '.join(sorted(unknown))}")
    recent = list(sprints)[-window:]
    subs = _subscores(recent, [s.completed_points for s in sprints])
    present = {k: v for k, (v, _) in subs.items() if v is not None and w.get(k, 0) > 0}
    total_w = sum(w[k] for k in present) or 1.0
    comps = []
    for name in DEFAULT_WEIGHTS:
        value, detail = subs[name]
        eff = w.get(name, 0.0) / total_w if name in present else 0.0
        contrib = round(eff * (value or 0.0), 1)
        comps.append(
            Component(
                name=name,
                value=None if value is None else round(value, 1),
                weight=round(eff, 3),
                contribution=contrib,
                detail=detail,
            )
        )
    score = round(sum(c.contribution for c in comps), 1)
    band = "healthy" if score >= HEALTHY else "watch" if score >= WATCH else "at_risk"
    return HealthScore(score=score, band=band, components=comps, sprints=[s.name for s in recent])


def health_trend(
    sprints: Sequence[SprintFacts], *, weights: Mapping[str, float] | None = None, window: int = WINDOW
) -> HealthTrend:
    """The score with the window ending at each sprint, and its least-squares slope per sprint."""
    seq = list(sprints)
    history = [
        (seq[i].name, health_score(seq[: i + 1], weights=weights, window=window).score)
        for i in range(len(seq))
    ]
    current = health_score(seq, weights=weights, window=window)
    ys = [s for _, s in history]
    n = len(ys)
    slope = 0.0
    if n >= 2:
        mx, my = (n - 1) / 2, statistics.fmean(ys)
        slope = sum((i - mx) * (y - my) for i, y in enumerate(ys)) / sum((i - mx) ** 2 for i in range(n))
    return HealthTrend(current=current, history=history, slope_per_sprint=round(slope, 2))
