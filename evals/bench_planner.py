"""Planner benchmark: scoring + velocity + exact selection + assignment on a large random backlog.

    python -m evals.bench_planner [--items 2000] [--edges 3000] [--seed 1] [--capacity N]

The backlog is a random DAG (each edge points from an item to an earlier one, so there are no
cycles), with some prerequisites already done, ~8% of items without Story Points, a few Blocked.
Capacity is the median of six synthetic past sprints of 40-60 points unless --capacity is given.
Prints one table; the target is a total planning time under 2 s.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Sequence
from datetime import date, timedelta

from tools.planning.assignment import assign
from tools.planning.models import BacklogItem, Person, SprintRecord
from tools.planning.scoring import DEFAULT_FORMULA, score_items
from tools.planning.selection import select
from tools.planning.velocity import resolve_capacity, velocity_stats

SKILLS = ["backend", "frontend", "mobile", "data", "devops", "design", "qa"]
FIBONACCI = [1, 2, 3, 5, 8, 13]
FIB_WEIGHTS = [4, 5, 5, 4, 2, 1]


def make_backlog(n_items: int, n_edges: int, seed: int) -> list[BacklogItem]:
    rng = random.Random(seed)
    max_edges = n_items * (n_items - 1) // 2
    if n_edges > max_edges:
        raise ValueError(f"{n_items} items allow at most {max_edges} acyclic edges")
    edges: set[tuple[int, int]] = set()
    while len(edges) < n_edges:
        a, b = rng.randrange(n_items), rng.randrange(n_items)
        if a != b:
            edges.add((max(a, b), min(a, b)))  # later item depends on an earlier one: acyclic
    deps: dict[int, list[int]] = {}
    for a, b in sorted(edges):
        deps.setdefault(a, []).append(b)
    items = []
    for k in range(n_items):
        done = rng.random() < 0.05
        status = (
            "Done"
            if done
            else rng.choices(["Not Started", "In Progress", "Blocked", "Ready for Review"], [80, 12, 3, 5])[0]
        )
        items.append(
            BacklogItem(
                gid=f"t{k:05d}",
                name=f"Story {k}",
                points=None if rng.random() < 0.08 else float(rng.choices(FIBONACCI, FIB_WEIGHTS)[0]),
                business_value=float(rng.randint(1, 100)),
                effort=float(rng.randint(1, 10)),
                priority=rng.choice(["Critical", "High", "Medium", "Low"]),
                status=status,
                tags=rng.sample(SKILLS, rng.choice([1, 1, 1, 2])),
                depends_on=[f"t{b:05d}" for b in deps.get(k, [])],
                completed=done,
            )
        )
    return items


def make_team(seed: int, n_people: int = 8) -> list[Person]:
    rng = random.Random(seed + 1)
    people = []
    for k in range(n_people):
        skills = rng.sample(SKILLS, rng.randint(1, 3))
        people.append(
            Person(
                gid=f"u{k:02d}",
                name=f"Person {k}",
                skills=skills,
                tag_history={s: float(rng.randint(5, 60)) for s in skills},
                past_points=float(rng.randint(20, 60)),
            )
        )
    return people


def make_sprints(seed: int, n: int = 6) -> list[SprintRecord]:
    rng = random.Random(seed + 2)
    start = date(2026, 8, 3)
    out = []
    for k in range(n):
        committed = float(rng.randint(45, 60))
        out.append(
            SprintRecord(
                name=f"Sprint {18 + k}",
                start_on=start + timedelta(days=14 * k),
                end_on=start + timedelta(days=14 * k + 13),
                committed_points=committed,
                completed_points=float(rng.randint(40, int(committed))),
                completed_items=rng.randint(8, 14),
                carried_over_items=rng.randint(0, 3),
            )
        )
    return out


def run(n_items: int, n_edges: int, seed: int, capacity: float | None) -> list[tuple[str, str]]:
    items = make_backlog(n_items, n_edges, seed)
    people = make_team(seed)
    sprints = make_sprints(seed)
    t0 = time.perf_counter()
    scores = score_items(items, DEFAULT_FORMULA)
    t1 = time.perf_counter()
    stats = velocity_stats(sprints)
    plan = resolve_capacity(stats, override=capacity, people=people)
    t2 = time.perf_counter()
    sel = select(items, plan.capacity, scores=scores)
    t3 = time.perf_counter()
    by_gid = {it.gid: it for it in items}
    result = assign([by_gid[g] for g in sel.chosen], people, plan.per_person)
    t4 = time.perf_counter()
    over = sum(1 for row in result.loads if row.over_capacity)
    return [
        ("items", str(n_items)),
        ("dependency edges", str(n_edges)),
        ("velocity (completed)", ", ".join(f"{v:g}" for v in stats.completed)),
        ("velocity mean/median/stdev", f"{stats.mean:.1f} / {stats.median:.1f} / {stats.stdev:.1f}"),
        ("capacity", f"{plan.capacity:g} ({plan.source})"),
        ("excluded (reasons)", str(len(sel.excluded))),
        ("cannot fit with prerequisites", str(len(sel.over_capacity))),
        ("items in solver model", str(sel.model_items)),
        ("chosen", str(len(sel.chosen))),
        ("total points", f"{sel.total_points:g}"),
        ("total score", f"{sel.total_score:.3f}"),
        ("status", sel.status),
        ("gap", f"{sel.gap:.4%}"),
        ("solver", sel.solver),
        (
            "assignment",
            f"{result.solver} ({result.status}), max load {result.max_load_ratio:.2f}, "
            f"skill match {result.skill_match:.2f}, over capacity {over}",
        ),
        ("time scoring", f"{(t1 - t0) * 1000:.0f} ms"),
        ("time velocity/capacity", f"{(t2 - t1) * 1000:.0f} ms"),
        ("time selection", f"{(t3 - t2) * 1000:.0f} ms"),
        ("time assignment", f"{(t4 - t3) * 1000:.0f} ms"),
        ("total time", f"{(t4 - t0) * 1000:.0f} ms (target < 2000 ms)"),
    ]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--edges", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--capacity", type=float, default=None)
    args = parser.parse_args(argv)
    rows = run(args.items, args.edges, args.seed, args.capacity)
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key.ljust(width)}  {value}")


if __name__ == "__main__":
    main()
