"""Assignment (issue 23): the stage floors are valid lower bounds, and they let CP-SAT prove the
plan on fractional personal capacities instead of running every stage to its time limit."""

from __future__ import annotations

import itertools
import random

from evals.bench_planner import make_backlog, make_sprints, make_team
from tools.planning.assignment import RATIO_UNITS, assign, overload_floor, ratio_floor
from tools.planning.scoring import score_items
from tools.planning.selection import select
from tools.planning.velocity import resolve_capacity, velocity_stats


def test_overload_and_ratio_floors_never_exceed_the_true_minimum() -> None:
    rng = random.Random(5)
    tight = 0
    for _ in range(300):
        n_people = rng.randint(1, 3)
        unit = rng.choice([1, 10, 100])  # point scale: fractional capacities in tenths/hundredths
        pts = [rng.choice([1, 2, 3, 5]) * unit for _ in range(rng.randint(1, 6))]
        cap = [rng.randint(0, 9 * unit) for _ in range(n_people)]
        least_over, least_ratio = None, None
        for combo in itertools.product(range(n_people), repeat=len(pts)):
            loads = [0] * n_people
            for p, who in zip(pts, combo, strict=True):
                loads[who] += p
            over = sum(max(0, load - c) for load, c in zip(loads, cap, strict=True))
            least_over = over if least_over is None else min(least_over, over)
            if all(c > 0 for c in cap):
                # the model's per-mille ratio: the least integer r with 1000 * load <= cap * r
                r = max(-(-RATIO_UNITS * load // c) for load, c in zip(loads, cap, strict=True))
                least_ratio = r if least_ratio is None else min(least_ratio, r)
        assert least_over is not None
        assert overload_floor(pts, cap) <= least_over
        tight += overload_floor(pts, cap) == least_over
        if least_ratio is not None:
            assert ratio_floor(pts, cap) <= least_ratio
    assert tight > 250  # and usually the bound is the optimum itself


def test_fractional_personal_capacities_are_proven_optimal_within_the_time_limit() -> None:
    """The bench's 2,000-item plan with the unrounded personal shares: before, the overload stage
    and the balance stage both ran to their time limits (status 'feasible')."""
    items = make_backlog(2000, 3000, seed=1)
    people = make_team(1)
    plan = resolve_capacity(velocity_stats(make_sprints(1)), override=None, people=people)
    assert any(v != int(v) for v in plan.per_person.values())
    sel = select(items, plan.capacity, scores=score_items(items))
    by_gid = {it.gid: it for it in items}
    result = assign([by_gid[g] for g in sel.chosen], people, plan.per_person)
    assert result.status == "optimal"
    assert sum(row.over_capacity for row in result.loads) >= 1  # the overload is real: shares are fractions
