"""Monte Carlo forecasts from a team's per-sprint history: completed points (velocity) or items (throughput).

The sampling is unit-agnostic: `simulate` takes any per-sprint quantity, so the points forecast
and the throughput (item-count) forecast in tools.forecast.throughput share this one engine; `unit`
only changes rounding and wording.

Each simulated sprint draws one past sprint (recent sprints weigh more), shifts it by the team's
trend, and adds it up. Outliers are winsorised (median ± 3·MAD) before sampling so one holiday
sprint or one bulk-close neither drags the forecast down nor inflates it; zero-velocity sprints
are real observations and stay in (pulled up only when they are outliers against the rest).
Missing values (a sprint with no points recorded) are dropped
and counted. With fewer than three usable sprints the forecast says so: its `basis` is "thin".
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field

PERCENTILES = (10, 50, 85, 90, 95)
MIN_SPRINTS = 3
DEFAULT_RUNS = 5000
DEFAULT_WINDOW = 8  # the last N sprints describe the team now
RECENCY_HALF_LIFE = 4.0  # sprints; a sprint 4 back weighs half as much as the last one
MAD_LIMIT = 3.0
TREND_CAP = 0.15  # a trend never moves a sprint more than 15% of the median per sprint ahead

Basis = Literal["none", "thin", "normal"]
Unit = Literal["points", "items"]


class CleanHistory(BaseModel):
    values: list[float]  # usable sprints, oldest first, after winsorising
    raw: list[float]
    missing: int
    clipped: list[int] = Field(default_factory=list)  # indices (into values) that were winsorised
    trend_per_sprint: float = 0.0


class VelocityForecast(BaseModel):
    """Velocity (or throughput) of one future sprint, or the sum over `sprints`, as percentiles."""

    sprints: int
    history_used: int
    missing: int
    clipped: int
    trend_per_sprint: float
    basis: Basis
    caveat: str | None
    percentiles: dict[int, float]  # e.g. {10: .., 50: .., 85: .., 90: .., 95: ..}
    mean: float
    unit: Unit = "points"

    def p(self, q: int) -> float:
        return self.percentiles[q]


def clean_history(history: Sequence[float | None], *, window: int = DEFAULT_WINDOW) -> CleanHistory:
    raw = [float(v) for v in history if v is not None and not (isinstance(v, float) and math.isnan(v))]
    missing = len(history) - len(raw)
    raw = [max(0.0, v) for v in raw][-window:]
    if len(raw) < MIN_SPRINTS:
        return CleanHistory(values=raw, raw=raw, missing=missing)
    med = statistics.median(raw)
    mad = statistics.median(abs(v - med) for v in raw) or (0.1 * med if med else 0.0)
    lo, hi = max(0.0, med - MAD_LIMIT * 1.4826 * mad), med + MAD_LIMIT * 1.4826 * mad
    values, clipped = [], []
    for i, v in enumerate(raw):
        c = min(max(v, lo), hi)
        if c != v:
            clipped.append(i)
        values.append(c)
    return CleanHistory(
        values=values, raw=raw, missing=missing, clipped=clipped, trend_per_sprint=_trend(values)
    )


def _trend(values: Sequence[float]) -> float:
    """Theil-Sen slope (median of pairwise slopes), capped: robust to a single odd sprint."""
    n = len(values)
    if n < 4:
        return 0.0
    slopes = [(values[j] - values[i]) / (j - i) for i in range(n) for j in range(i + 1, n)]
    slope = statistics.median(slopes)
    cap = TREND_CAP * max(statistics.median(values), 1e-9)
    return max(-cap, min(cap, slope))


def _weights(n: int) -> np.ndarray:
    ages = np.arange(n - 1, -1, -1, dtype=float)  # last sprint has age 0
    w = 0.5 ** (ages / RECENCY_HALF_LIFE)
    return np.asarray(w / w.sum())


def simulate(
    history: Sequence[float | None],
    sprints: int = 1,
    *,
    runs: int = DEFAULT_RUNS,
    seed: int = 0,
    window: int = DEFAULT_WINDOW,
) -> tuple[np.ndarray, CleanHistory]:
    """`runs` samples of the cumulative points finished after 1..`sprints` sprints (runs × sprints)."""
    if sprints < 1:
        raise ValueError("sprints must be at least 1")
    h = clean_history(history, window=window)
    if not h.values:
        return np.zeros((runs, sprints)), h
    rng = np.random.default_rng(seed)
    vals = np.asarray(h.values, dtype=float)
    n = len(vals)
    # Detrend around the last sprint so each draw is "a sprint like that one, at today's level".
    idx = np.arange(n, dtype=float)
    level = vals - h.trend_per_sprint * (idx - (n - 1))
    draws = rng.choice(n, size=(runs, sprints), p=_weights(n))
    ahead = np.arange(1, sprints + 1, dtype=float)
    per_sprint = level[draws] + h.trend_per_sprint * ahead
    if n >= MIN_SPRINTS:
        # Smoothed bootstrap: a kernel (Silverman's bandwidth) around each drawn sprint, so a short
        # history does not give a range that only ever repeats the few values seen.
        sd = float(np.std(vals, ddof=1))
        per_sprint = per_sprint + rng.normal(0.0, 1.06 * sd * n ** (-0.2), size=per_sprint.shape)
    per_sprint = np.maximum(per_sprint, 0.0)
    if n < MIN_SPRINTS:
        # Too few sprints to resample from: widen with a spread proportional to the mean (±35%).
        per_sprint = np.maximum(per_sprint * rng.normal(1.0, 0.35, size=per_sprint.shape), 0.0)
    return np.cumsum(per_sprint, axis=1), h


def _basis(n: int, unit: Unit = "points") -> tuple[Basis, str | None]:
    if n == 0:
        what = "points" if unit == "points" else "a completed-item count"
        return "none", f"No completed sprint with {what} recorded: the forecast is zero and means nothing."
    if n < MIN_SPRINTS:
        return "thin", (
            f"Rests on only {n} past sprint{'s' if n > 1 else ''}: treat these numbers as a rough guess "
            f"(at least {MIN_SPRINTS} are needed for a meaningful range)."
        )
    return "normal", None


def _amount(x: float, unit: Unit) -> float:
    # Items are whole: "P50 23 items" means at least 23 finished (never round a partial item up).
    return float(math.floor(x + 1e-9)) if unit == "items" else round(x, 2)


def velocity_forecast(
    history: Sequence[float | None],
    sprints: int = 1,
    *,
    runs: int = DEFAULT_RUNS,
    seed: int = 0,
    percentiles: Sequence[int] = PERCENTILES,
    unit: Unit = "points",
) -> VelocityForecast:
    """Points (or items) finished over the next `sprints` sprints, as percentiles of the simulation."""
    sims, h = simulate(history, sprints, runs=runs, seed=seed)
    total = sims[:, -1]
    basis, caveat = _basis(len(h.values), unit)
    return VelocityForecast(
        sprints=sprints,
        history_used=len(h.values),
        missing=h.missing,
        clipped=len(h.clipped),
        trend_per_sprint=round(h.trend_per_sprint, 3),
        basis=basis,
        caveat=caveat,
        percentiles={int(q): _amount(float(np.percentile(total, q)), unit) for q in percentiles},
        mean=round(float(total.mean()), 2),
        unit=unit,
    )


def completion_probability(
    history: Sequence[float | None],
    scope_points: float,
    sprints: int = 1,
    *,
    runs: int = DEFAULT_RUNS,
    seed: int = 0,
) -> float:
    """Probability that `scope_points` are finished within `sprints` sprints (0..1)."""
    if scope_points <= 0:
        return 1.0
    sims, h = simulate(history, sprints, runs=runs, seed=seed)
    if not h.values:
        return 0.0
    return round(float(np.mean(sims[:, -1] >= scope_points - 1e-9)), 4)


class DoneDistribution(BaseModel):
    scope_points: float  # the scope in `unit` (points, or items for a throughput forecast)
    percentiles: dict[int, date | None]  # date by which the scope is done with that probability
    sprints: dict[int, int | None]  # number of sprints needed at that probability
    probability_by_sprint: list[float]  # P(done within k sprints), k = 1..horizon
    horizon: int
    basis: Basis
    caveat: str | None
    unit: Unit = "points"


def completion_times(sims: np.ndarray, scope: float) -> np.ndarray:
    """Per run, the (fractional) number of sprints until the cumulative total reaches `scope`.

    Within the sprint that crosses the scope the finish is interpolated linearly, so 2.5 means
    "half-way through the third sprint"; runs that never reach it inside the simulated horizon get
    horizon + 1 (censored, i.e. "later than we can say"). A continuous answer lets the backtest tell
    two methods apart where whole sprints would tie.
    """
    runs, horizon = sims.shape
    if scope <= 0:
        return np.zeros(runs)
    done = sims >= scope - 1e-9
    reached = done.any(axis=1)
    k = np.where(reached, done.argmax(axis=1), horizon - 1)  # 0-based index of the crossing sprint
    prev = np.where(k > 0, sims[np.arange(runs), np.maximum(k - 1, 0)], 0.0)
    step = sims[np.arange(runs), k] - prev
    frac = np.where(step > 0, (scope - prev) / np.where(step > 0, step, 1.0), 1.0)
    times = k + np.clip(frac, 0.0, 1.0)
    return np.where(reached, times, float(horizon + 1))


def when_done(
    history: Sequence[float | None],
    scope_points: float,
    start: date,
    sprint_days: int = 14,
    *,
    horizon: int = 26,
    runs: int = DEFAULT_RUNS,
    seed: int = 0,
    percentiles: Sequence[int] = (50, 85, 95),
    unit: Unit = "points",
) -> DoneDistribution:
    """When will `scope_points` (points, or items with unit="items") be done, if sprints of
    `sprint_days` start at `start`? (end dates)"""
    sims, h = simulate(history, horizon, runs=runs, seed=seed)
    basis, caveat = _basis(len(h.values), unit)
    done = sims >= scope_points - 1e-9
    prob = [round(float(done[:, k].mean()), 4) for k in range(horizon)]
    first = np.where(done.any(axis=1), done.argmax(axis=1) + 1, horizon + 1)
    dates: dict[int, date | None] = {}
    counts: dict[int, int | None] = {}
    for q in percentiles:
        k = int(np.ceil(np.percentile(first, q))) if scope_points > 0 else 0
        if k > horizon or not h.values:
            dates[int(q)], counts[int(q)] = None, None
        else:
            counts[int(q)] = k
            dates[int(q)] = start + timedelta(days=max(k, 1) * sprint_days - 1) if k else start
    return DoneDistribution(
        scope_points=scope_points,
        percentiles=dates,
        sprints=counts,
        probability_by_sprint=prob,
        horizon=horizon,
        basis=basis,
        caveat=caveat,
        unit=unit,
    )


def sprints_until(start: date, by: date, sprint_days: int = 14) -> int:
    """Whole sprints of `sprint_days` starting at `start` that end on or before `by`."""
    if by < start:
        return 0
    return ((by - start).days + 1) // sprint_days


def how_much_by(
    history: Sequence[float | None],
    start: date,
    by: date,
    sprint_days: int = 14,
    *,
    runs: int = DEFAULT_RUNS,
    seed: int = 0,
    unit: Unit = "points",
) -> VelocityForecast | None:
    """Points (or items) finished by date `by` (whole sprints only); None when no sprint ends by then."""
    k = sprints_until(start, by, sprint_days)
    if k == 0:
        return None
    return velocity_forecast(history, k, runs=runs, seed=seed, unit=unit)


def fan(
    history: Sequence[float | None], sprints: int, *, runs: int = DEFAULT_RUNS, seed: int = 0
) -> dict[int, list[float]]:
    """Cumulative points (or items) per future sprint at P10/P50/P90 (and P5/P95): the fan chart's bands."""
    sims, _ = simulate(history, sprints, runs=runs, seed=seed)
    return {q: [round(float(x), 2) for x in np.percentile(sims, q, axis=0)] for q in (5, 10, 50, 90, 95)}
