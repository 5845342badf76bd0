"""Throughput (item-count) Monte Carlo: the same sampler as points, answered in whole items."""

from __future__ import annotations

import math
from datetime import date

import numpy as np

from tools.forecast.montecarlo import completion_times, velocity_forecast
from tools.forecast.throughput import (
    items_by,
    items_completion_probability,
    items_when_done,
    throughput_forecast,
)

STEADY_ITEMS = [10.0, 10.0, 10.0, 10.0, 10.0]
NOISY_ITEMS = [8.0, 12.0, 9.0, 11.0, 10.0, 13.0, 7.0]


def test_constant_throughput_is_forecast_exactly() -> None:
    fc = throughput_forecast(STEADY_ITEMS)
    assert fc.unit == "items" and fc.basis == "normal"
    assert fc.p(10) == fc.p(50) == fc.p(90) == 10
    done = items_when_done(STEADY_ITEMS, 25, date(2026, 11, 23), 14)
    assert done.unit == "items" and done.scope_points == 25
    # 10, 20, 30 items after 1, 2, 3 sprints: 25 items finish in the third sprint at every percentile
    assert done.sprints[10] == done.sprints[50] == done.sprints[90] == 3
    assert done.percentiles[50] == date(2027, 1, 3)
    by = items_by(STEADY_ITEMS, date(2026, 11, 23), date(2027, 1, 3), 14)
    assert by is not None and by.sprints == 3 and by.p(50) == 30
    assert items_completion_probability(STEADY_ITEMS, 30, 3) == 1.0
    assert items_completion_probability(STEADY_ITEMS, 31, 3) == 0.0


def test_seeded_and_shares_the_points_sampler() -> None:
    a = throughput_forecast(NOISY_ITEMS, 2, seed=7)
    b = throughput_forecast(NOISY_ITEMS, 2, seed=7)
    assert a == b  # deterministic for a seed
    assert a.p(10) < a.p(50) < a.p(90)
    assert all(float(v).is_integer() for v in a.percentiles.values())  # whole items
    # One sampler: the item forecast is the points forecast of the same numbers, floored to whole items.
    pts = velocity_forecast(NOISY_ITEMS, 2, seed=7)
    assert {q: math.floor(v + 1e-6) for q, v in pts.percentiles.items()} == a.percentiles
    done = items_when_done(NOISY_ITEMS, 40, date(2026, 11, 23), 14, seed=3)
    p10, p50, p90 = done.sprints[10], done.sprints[50], done.sprints[90]
    assert p10 is not None and p50 is not None and p90 is not None
    assert p10 <= p50 <= p90


def test_completion_times_are_fractional_and_censored() -> None:
    sims = np.array([[5.0, 10.0, 15.0], [0.0, 0.0, 4.0]])
    t = completion_times(sims, 7.5)
    assert t[0] == 1.5  # half-way through the second sprint
    assert t[1] == 4.0  # never reached within 3 sprints: horizon + 1
    assert list(completion_times(sims, 0)) == [0.0, 0.0]
    assert completion_times(np.array([[3.0, 3.0, 6.0]]), 3.0)[0] == 1.0


def test_no_item_counts_says_so() -> None:
    fc = throughput_forecast([None, None])
    assert fc.basis == "none" and fc.caveat is not None and "completed-item count" in fc.caveat
