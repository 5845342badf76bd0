from datetime import date

import pytest

from tools.forecast import capacity_report, completion_probability, how_much_by, velocity_forecast, when_done
from tools.forecast.montecarlo import clean_history, fan

STEADY = [40.0, 38.0, 45.0, 36.0, 42.0, 41.0]


def test_thin_history_says_how_little_it_rests_on() -> None:
    fc = velocity_forecast([30.0, 34.0])
    assert fc.basis == "thin" and fc.history_used == 2
    assert fc.caveat is not None and "only 2 past sprints" in fc.caveat
    assert fc.p(10) < fc.p(50) < fc.p(90)  # still a (wide) range, not a point
    normal = velocity_forecast(STEADY)
    assert normal.basis == "normal" and normal.caveat is None


def test_no_history_gives_zero_and_says_so() -> None:
    fc = velocity_forecast([None, None])
    assert fc.basis == "none" and fc.missing == 2 and fc.p(95) == 0
    assert completion_probability([], 10) == 0.0


def test_missing_points_are_dropped_and_counted_and_zero_sprints_kept() -> None:
    fc = velocity_forecast([40.0, None, 0.0, 42.0, 39.0])
    assert fc.missing == 1 and fc.history_used == 4
    all_zero = velocity_forecast([0.0, 0.0, 0.0, 0.0])
    assert all_zero.p(95) == 0.0 and all_zero.basis == "normal"


def test_outlier_is_winsorised_and_trend_is_detected() -> None:
    h = clean_history([40, 41, 39, 42, 400, 40])
    assert max(h.values) < 100 and h.clipped == [4]
    rising = velocity_forecast([20, 24, 28, 32, 36, 40])
    assert rising.trend_per_sprint > 0
    assert rising.p(50) > 36


def test_percentiles_ordered_and_probability_monotone() -> None:
    fc = velocity_forecast(STEADY, runs=4000)
    ps = [fc.p(q) for q in (10, 50, 85, 90, 95)]
    assert ps == sorted(ps) and 36 <= fc.p(50) <= 45
    probs = [completion_probability(STEADY, s) for s in (20, 40, 60)]
    assert probs[0] > 0.95 and probs[2] < 0.05 and probs[0] >= probs[1] >= probs[2]
    assert completion_probability(STEADY, 60, sprints=2) > 0.9
    assert completion_probability(STEADY, 0) == 1.0


def test_when_done_and_how_much_by() -> None:
    start = date(2026, 11, 23)
    done = when_done(STEADY, 200, start, 14)
    assert done.sprints[50] == 5 and done.percentiles[50] == date(2027, 1, 31)
    assert done.sprints[95] is not None and done.sprints[95] >= done.sprints[50]
    assert how_much_by(STEADY, start, date(2026, 11, 30), 14) is None
    by = how_much_by(STEADY, start, date(2027, 1, 3), 14)
    assert by is not None and by.sprints == 3 and 100 < by.p(50) < 140
    bands = fan(STEADY, 4)
    assert all(bands[10][i] <= bands[50][i] <= bands[90][i] for i in range(4))


def test_capacity_flags_over_allocation_and_recommends_within_capacity() -> None:
    names = {"a": "Ann", "b": "Bob", "c": "Cy"}
    rep = capacity_report(40, {"a": 30, "b": 5}, {"a": 60, "b": 60, "c": 0}, names, availability={"b": 0.5})
    by = {p.gid: p for p in rep.people}
    assert by["a"].over_allocated and not by["b"].over_allocated
    assert by["b"].capacity_points < by["a"].capacity_points
    # Bob's half availability takes his half share out of the team's 40 points: 32.5 left for 35 assigned.
    assert sum(p.capacity_points for p in rep.people) == pytest.approx(32.5, abs=0.2)
    assert sum(p.recommended_points for p in rep.people) == pytest.approx(32.5, abs=0.2)
