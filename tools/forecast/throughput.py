"""Throughput forecasts: the same Monte Carlo as velocity, over completed *item counts* per sprint.

Many teams forecast by counting items rather than summing points ("we finish 20–30 items a sprint"):
no estimation is needed and item counts are often steadier than points. Everything here delegates
to tools.forecast.montecarlo (one sampler for both units): each simulated sprint draws a past
sprint's item count (recent sprints weigh more, outliers winsorised, trend applied) and adds it up.
Answers are in whole items: P10/P50/P90 of "how many items by date D" and the sprint end date by
which "N remaining items" are done with a given probability.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from tools.forecast.montecarlo import (
    DEFAULT_RUNS,
    PERCENTILES,
    DoneDistribution,
    VelocityForecast,
    completion_probability,
    how_much_by,
    velocity_forecast,
    when_done,
)

DONE_PERCENTILES = (10, 50, 85, 90, 95)


def throughput_forecast(
    items: Sequence[float | None],
    sprints: int = 1,
    *,
    runs: int = DEFAULT_RUNS,
    seed: int = 0,
    percentiles: Sequence[int] = PERCENTILES,
) -> VelocityForecast:
    """Items finished over the next `sprints` sprints (whole items, P10/P50/P85/P90/P95)."""
    return velocity_forecast(items, sprints, runs=runs, seed=seed, percentiles=percentiles, unit="items")


def items_when_done(
    items: Sequence[float | None],
    remaining_items: int,
    start: date,
    sprint_days: int = 14,
    *,
    horizon: int = 26,
    runs: int = DEFAULT_RUNS,
    seed: int = 0,
    percentiles: Sequence[int] = DONE_PERCENTILES,
) -> DoneDistribution:
    """When will `remaining_items` be done, if sprints of `sprint_days` start at `start`? (end dates)"""
    return when_done(
        items,
        float(remaining_items),
        start,
        sprint_days,
        horizon=horizon,
        runs=runs,
        seed=seed,
        percentiles=percentiles,
        unit="items",
    )


def items_by(
    items: Sequence[float | None],
    start: date,
    by: date,
    sprint_days: int = 14,
    *,
    runs: int = DEFAULT_RUNS,
    seed: int = 0,
) -> VelocityForecast | None:
    """Items finished by date `by` (whole sprints only); None when no sprint ends by then."""
    return how_much_by(items, start, by, sprint_days, runs=runs, seed=seed, unit="items")


def items_completion_probability(
    items: Sequence[float | None],
    remaining_items: int,
    sprints: int = 1,
    *,
    runs: int = DEFAULT_RUNS,
    seed: int = 0,
) -> float:
    """Probability that `remaining_items` are finished within `sprints` sprints (0..1)."""
    return completion_probability(items, float(remaining_items), sprints, runs=runs, seed=seed)
