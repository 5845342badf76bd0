"""Velocity statistics, capacity rules and per-person capacity."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from tools.planning.models import Person, SprintRecord
from tools.planning.velocity import (
    from_person_availability,
    percentile,
    person_capacities,
    resolve_capacity,
    split_capacity,
    velocity_stats,
)


def dated(k: int, completed: float, committed: float = 50.0) -> SprintRecord:
    start = date.fromordinal(date(2026, 1, 5).toordinal() + 14 * k)
    end = date.fromordinal(start.toordinal() + 13)
    return SprintRecord(
        name=f"Sprint {k}", start_on=start, end_on=end, committed_points=committed, completed_points=completed
    )


def test_stats_from_history_in_date_order() -> None:
    values = [40, 44, 38, 50, 46, 43, 47, 20]
    records = [dated(k, v) for k, v in enumerate(values)]
    stats = velocity_stats(list(reversed(records)), window=6)  # given out of order on purpose
    assert stats.sprints == [f"Sprint {k}" for k in range(8)]
    assert stats.completed == values
    assert stats.mean == pytest.approx(np.mean(values))
    assert stats.median == pytest.approx(np.median(values))
    assert stats.stdev == pytest.approx(np.std(values, ddof=1))
    assert (stats.min, stats.max) == (20, 50)
    assert stats.last3_mean == pytest.approx((43 + 47 + 20) / 3)
    assert stats.recommended_capacity == pytest.approx(np.median(values[-6:]))  # robust to the 20
    assert stats.predicted_low == pytest.approx(np.percentile(values, 15))
    assert stats.predicted_high == pytest.approx(np.percentile(values, 85))
    assert stats.commitment_ratio == pytest.approx(np.mean(values) / 50)
    assert not stats.warnings


def test_availability_factor_scales_capacity_and_range() -> None:
    records = [dated(k, v) for k, v in enumerate([40, 50, 60])]
    full, half = velocity_stats(records), velocity_stats(records, availability_factor=0.5)
    assert half.recommended_capacity == pytest.approx(full.recommended_capacity * 0.5)  # type: ignore[operator]
    assert half.predicted_high == pytest.approx(full.predicted_high * 0.5)  # type: ignore[operator]
    assert half.median == full.median  # history itself is unchanged


def test_no_and_one_sprint_are_handled() -> None:
    none = velocity_stats([])
    assert none.recommended_capacity is None and none.mean is None and none.warnings
    one = velocity_stats([dated(0, 37)])
    assert one.recommended_capacity == 37 and one.stdev == 0.0
    assert (one.predicted_low, one.predicted_high) == (37, 37)
    assert any("one past sprint" in w for w in one.warnings)
    assert resolve_capacity(none).source == "none"


def test_percentile_matches_numpy() -> None:
    rng = np.random.default_rng(3)
    for _ in range(50):
        vals = list(rng.integers(10, 70, size=int(rng.integers(1, 12))).astype(float))
        for pct in (0, 15, 50, 85, 100):
            assert percentile(vals, pct) == pytest.approx(np.percentile(vals, pct))
    with pytest.raises(ValueError):
        percentile([], 50)


def test_resolve_capacity_precedence() -> None:
    stats = velocity_stats([dated(k, v) for k, v in enumerate([40, 42, 44])])
    people = [Person(gid="a", past_points=30), Person(gid="b", past_points=10)]
    by_velocity = resolve_capacity(stats, people=people)
    assert by_velocity.source == "velocity" and by_velocity.capacity == 42
    assert by_velocity.per_person == pytest.approx({"a": 31.5, "b": 10.5})
    assert "median" in by_velocity.explanation and "stdev" in by_velocity.explanation
    override = resolve_capacity(stats, override=30, people=people)
    assert override.source == "override" and override.capacity == 30
    assert sum(override.per_person.values()) == pytest.approx(30)
    stated = [Person(gid="a", past_points=30, availability_points=12), Person(gid="b", past_points=10)]
    avail = resolve_capacity(stats, people=stated)
    assert avail.source == "availability"
    assert avail.per_person == pytest.approx({"a": 12.0, "b": 10.5})
    assert avail.capacity == pytest.approx(22.5)
    with pytest.raises(ValueError):
        resolve_capacity(stats, override=-1)


def test_person_capacity_rules() -> None:
    people = [
        Person(gid="a", past_points=20, availability_ratio=0.5),
        Person(gid="b", past_points=20),
        Person(gid="c", past_points=0, availability_points=4),
    ]
    assert person_capacities(people, 40) == pytest.approx({"a": 10.0, "b": 20.0, "c": 4.0})
    assert person_capacities(people, None) == {"a": None, "b": None, "c": 4.0}
    plan = from_person_availability(people)
    assert plan.capacity == 4.0 and len(plan.warnings) == 2
    # nobody has history: equal shares
    assert split_capacity([Person(gid="x"), Person(gid="y")], 10) == {"x": 5.0, "y": 5.0}
    assert from_person_availability([]).capacity == 0.0
