"""The single-pass cascade gives exactly the previous algorithm's results (evals.cascade_reference),
in both implementations (the array pass and the dict pass) and as `propagate` picks between them.

Random graphs cover what the rules branch on: dated, pointed and bare tasks, weekend dates,
completed tasks and unknown prerequisites (which hold nothing up), cycles (skipped and reported),
several and repeated slips (to a new date, by days, by nothing), slipped tasks downstream of other
slipped tasks, and different paces. Results are compared whole: order, depth, via, dates, slack,
delay, cycles.
"""

from __future__ import annotations

import gc
import random
from collections.abc import Iterable
from dataclasses import fields
from datetime import date, timedelta

import networkx as nx
import pytest

from evals.bench_cascade import random_dag
from evals.cascade_reference import reference_propagate
from tools.dependencies.cascade import propagate
from tools.dependencies.cascade_arrays import TooDeep
from tools.dependencies.durations import DurationModel
from tools.dependencies.graph import build_graph
from tools.dependencies.models import Affected, Slip, TaskNode

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
    dependents: dict[str, Iterable[str]] | None = None
    if rnd.random() < 0.3:
        dependents = {f"x{k}": [rnd.choice(gids)] for k in range(3)}
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


@pytest.mark.parametrize("method", ["arrays", "dicts"])
@pytest.mark.parametrize("block", range(4))
def test_same_results_as_the_reference_on_random_graphs(block: int, method: str) -> None:
    cyclic = 0
    for seed in range(block * 250, (block + 1) * 250):
        rnd = random.Random(seed)
        g = _random_graph(rnd, rnd.randrange(2, 60), rnd.randrange(0, 150), cycles=rnd.random() < 0.5)
        slips = _random_slips(rnd, g)
        pace = DurationModel(
            points_per_person_day=rnd.choice([0.5, 1.0, 0.0]), default_days=rnd.randrange(1, 4)
        )
        report = rnd.random() < 0.8
        got = propagate(g, slips, today=TODAY, durations=pace, report_cycles=report, method=method)
        want = reference_propagate(g, slips, today=TODAY, durations=pace, report_cycles=report)
        assert got == want, f"seed {seed}"
        cyclic += bool(want.skipped_in_cycle)
    assert cyclic > 20  # the generator does exercise cycles


@pytest.mark.parametrize("method", ["auto", "arrays", "dicts"])
def test_every_source_slipping_matches_the_reference(method: str) -> None:
    g, _ = random_dag(6_000, 18_000, seed=5)
    slips = [Slip(n, days=3) for n in g if g.in_degree(n) == 0]
    got = propagate(g, slips, today=TODAY, method=method)
    assert got == reference_propagate(g, slips, today=TODAY)
    assert len(got.affected) == g.number_of_nodes()
    # The scan's "predicted late" pass: every open root slips by nothing.
    zero = [Slip(n, days=0) for n in g if g.in_degree(n) == 0]
    assert propagate(g, zero, today=TODAY, report_cycles=False, method=method) == reference_propagate(
        g, zero, today=TODAY, report_cycles=False
    )


def _portfolio(rnd: random.Random, tasks: int) -> nx.DiGraph:
    """A large graph with what the array pass branches on: completed tasks, unknown prerequisites,
    prerequisites outside the cascade, ties between prerequisites, and a cycle."""
    nodes = []
    for i in range(tasks):
        deps = {f"p{rnd.randrange(0, i)}" for _ in range(rnd.randrange(0, 4))} if i else set()
        if rnd.random() < 0.05:
            deps.add(f"x{rnd.randrange(20)}")  # unknown prerequisite
        if i >= tasks - 40:
            deps.add(f"p{i - 1}")  # a chain the last link below closes into a cycle
        due = TODAY + timedelta(days=rnd.randrange(0, 60)) if rnd.random() < 0.5 else None
        nodes.append(
            TaskNode(
                f"p{i}",
                due_on=due,
                points=rnd.choice([None, 1, 3]),
                completed=i < tasks - 40 and rnd.random() < 0.05,
                depends_on=tuple(sorted(deps)),
            )
        )
    dependents: dict[str, Iterable[str]] = {f"p{tasks - 1}": [f"p{tasks - 40}"]}  # closes a cycle at the end
    return build_graph(nodes, dependents)


@pytest.mark.parametrize("seed", range(3))
def test_large_graphs_match_the_reference_whichever_pass_runs(seed: int) -> None:
    rnd = random.Random(seed)
    g = _portfolio(rnd, 6_000)
    gids = sorted(g)
    for slips in (
        [Slip(rnd.choice(gids), days=rnd.randrange(1, 6)) for _ in range(3)],  # a small cascade
        [Slip(f"p{i}", days=2) for i in range(0, 6_000, 7)],  # most of the graph, some outside
    ):
        want = reference_propagate(g, slips, today=TODAY)
        assert want.skipped_in_cycle or len(slips) < 5
        for method in ("auto", "arrays", "dicts"):
            assert propagate(g, slips, today=TODAY, method=method) == want, method


def test_a_deep_chain_falls_back_to_the_dict_pass() -> None:
    """One generation per task: the array pass refuses (too many rounds), `auto` still answers."""
    chain = [
        TaskNode(f"c{i:05d}", points=1, depends_on=(f"c{i - 1:05d}",) if i else ()) for i in range(6_000)
    ]
    g = build_graph(chain)
    slips = [Slip("c00000", days=2)]
    with pytest.raises(TooDeep):
        propagate(g, slips, today=TODAY, method="arrays")
    got = propagate(g, slips, today=TODAY)
    assert got == reference_propagate(g, slips, today=TODAY)
    assert len(got.affected) == 6_000


def test_affected_field_order_is_the_one_the_array_pass_builds_with() -> None:
    # The array pass builds Affected positionally (no Python loop per task).
    assert [f.name for f in fields(Affected)] == [
        "gid",
        "depth",
        "via",
        "planned_finish",
        "earliest_start",
        "earliest_finish",
        "due_on",
        "duration_days",
        "duration_source",
        "slack_days",
        "delay_days",
    ]


@pytest.mark.parametrize("method", ["arrays", "dicts"])
def test_a_duration_model_that_reads_other_fields_is_asked_per_task(method: str) -> None:
    """Durations are memoised by (start_on, due_on, points) only for the standard model."""

    class ByName(DurationModel):
        def duration(self, task: TaskNode) -> tuple[int, str]:
            return (5 if task.name == "long" else 1), "default"

    g = build_graph([TaskNode("a", name="short"), TaskNode("b", name="long", depends_on=("a",))])
    res = propagate(g, [Slip("a", days=1)], today=TODAY, durations=ByName(), method=method).by_gid()
    assert (res["a"].duration_days, res["b"].duration_days) == (1, 5)


@pytest.mark.parametrize("enabled", [True, False])
def test_the_garbage_collector_is_left_as_it_was(enabled: bool) -> None:
    g, root = random_dag(6_000, 18_000, seed=1)
    was = gc.isenabled()
    try:
        gc.enable() if enabled else gc.disable()
        propagate(g, [Slip(n, days=1) for n in g if g.in_degree(n) == 0], today=TODAY)
        assert gc.isenabled() is enabled
    finally:
        gc.enable() if was else gc.disable()


def test_an_unknown_method_is_refused() -> None:
    g, root = random_dag(50, 100, seed=1)
    with pytest.raises(ValueError):
        propagate(g, [Slip(root, days=1)], today=TODAY, method="fast")
