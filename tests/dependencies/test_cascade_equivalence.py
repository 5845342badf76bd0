"""The single-pass cascade gives exactly the previous algorithm's results (evals.cascade_reference).

Random graphs cover what the rules branch on: dated, pointed and bare tasks, weekend dates,
completed tasks and unknown prerequisites (which hold nothing up), cycles (skipped and reported),
several and repeated slips (to a new date, by days, by nothing), slipped tasks downstream of other
slipped tasks, and different paces. Results are compared whole: order, depth, via, dates, slack,
delay, cycles.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

import networkx as nx
import pytest

from evals.bench_cascade import random_dag
from evals.cascade_reference import reference_propagate
from tools.dependencies.cascade import propagate
from tools.dependencies.durations import DurationModel
from tools.dependencies.graph import build_graph
from tools.dependencies.models import Slip, TaskNode

TODAY = date(2026, 11, 23)


def _random_graph(rnd: random.Random, tasks: int, links: int, cycles: bool) -> nx.DiGraph:
    gids = [f"t{i:03d}" for i in range(tasks)]
    deps: dict[str, set[str]] = {g: set() for g in gids}
    for _ in range(links):
        a, b = rnd.randrange(tasks), rnd.randrange(tasks)
        if a == b:
            continue
        if not cycles and a > b:
            a, b = b, a
        deps[gids[b]].add(gids[a])
    nodes = []
    for g in gids:
        start = TODAY + timedelta(days=rnd.randrange(-10, 30)) if rnd.random() < 0.4 else None
        due = (start or TODAY) + timedelta(days=rnd.randrange(-3, 12)) if rnd.random() < 0.6 else None
        unknown = (f"x{rnd.randrange(5)}",) if rnd.random() < 0.1 else ()
        nodes.append(
            TaskNode(
                g,
                start_on=start,
                due_on=due,
                points=rnd.choice([None, 0, 1, 2.5, 5]),
                completed=rnd.random() < 0.1,
                depends_on=(*sorted(deps[g]), *unknown),
            )
        )
    # Links known only from the prerequisite's side (`dependents`), from unknown tasks too.
    dependents = {f"x{k}": [rnd.choice(gids)] for k in range(3)} if rnd.random() < 0.3 else None
    return build_graph(nodes, dependents)


def _random_slips(rnd: random.Random, g: nx.DiGraph) -> list[Slip]:
    gids = sorted(g)
    out = []
    for _ in range(rnd.randrange(1, 8)):
        gid = rnd.choice(gids)
        kind = rnd.random()
        if kind < 0.4:
            out.append(Slip(gid, days=rnd.randrange(-2, 6)))
        elif kind < 0.7:
            out.append(Slip(gid, new_finish=TODAY + timedelta(days=rnd.randrange(-5, 20))))
        else:
            out.append(Slip(gid))
    return out


@pytest.mark.parametrize("block", range(4))
def test_same_results_as_the_reference_on_random_graphs(block: int) -> None:
    cyclic = 0
    for seed in range(block * 250, (block + 1) * 250):
        rnd = random.Random(seed)
        g = _random_graph(rnd, rnd.randrange(2, 60), rnd.randrange(0, 150), cycles=rnd.random() < 0.5)
        slips = _random_slips(rnd, g)
        pace = DurationModel(
            points_per_person_day=rnd.choice([0.5, 1.0, 0.0]), default_days=rnd.randrange(1, 4)
        )
        report = rnd.random() < 0.8
        got = propagate(g, slips, today=TODAY, durations=pace, report_cycles=report)
        want = reference_propagate(g, slips, today=TODAY, durations=pace, report_cycles=report)
        assert got == want, f"seed {seed}"
        cyclic += bool(want.skipped_in_cycle)
    assert cyclic > 20  # the generator does exercise cycles


def test_every_source_slipping_matches_the_reference() -> None:
    g, _ = random_dag(3_000, 9_000, seed=5)
    slips = [Slip(n, days=3) for n in g if g.in_degree(n) == 0]
    got = propagate(g, slips, today=TODAY)
    assert got == reference_propagate(g, slips, today=TODAY)
    assert len(got.affected) == g.number_of_nodes()
    # The scan's "predicted late" pass: every open root slips by nothing.
    zero = [Slip(n, days=0) for n in g if g.in_degree(n) == 0]
    assert propagate(g, zero, today=TODAY, report_cycles=False) == reference_propagate(
        g, zero, today=TODAY, report_cycles=False
    )
