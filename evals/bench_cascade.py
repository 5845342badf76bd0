"""Benchmark: delay cascade on a random 10,000-task, 30,000-edge dependency DAG.

    python -m evals.bench_cascade [--tasks 10000] [--edges 30000] [--repeat 5]

Prints graph build time and the median/best cascade time (target < 200 ms) for a slip on the
task with the most transitive dependents among the first tasks.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from datetime import date, timedelta

import networkx as nx

from tools.dependencies.cascade import propagate
from tools.dependencies.graph import build_graph
from tools.dependencies.models import Slip, TaskNode

TODAY = date(2026, 11, 23)


def random_dag(tasks: int, edges: int, seed: int = 0) -> tuple[nx.DiGraph, str]:
    """A DAG (edges go from lower to higher index) with a mix of dated, pointed and bare tasks."""
    rnd = random.Random(seed)
    deps: dict[int, set[int]] = {i: set() for i in range(tasks)}
    made = 0
    while made < edges:
        a, b = rnd.randrange(tasks), rnd.randrange(tasks)
        if a == b:
            continue
        lo, hi = min(a, b), max(a, b)
        # Prefer short hops so chains are long, like real work breakdowns.
        if hi - lo > 200 and rnd.random() < 0.8:
            continue
        if lo not in deps[hi]:
            deps[hi].add(lo)
            made += 1
    nodes = []
    for i in range(tasks):
        kind = i % 3
        start = TODAY + timedelta(days=i // 20)
        nodes.append(
            TaskNode(
                gid=str(1_000_000 + i),
                start_on=start if kind == 0 else None,
                due_on=start + timedelta(days=3) if kind != 2 else None,
                points=float(rnd.choice((1, 2, 3, 5, 8))) if kind != 0 else None,
                depends_on=tuple(str(1_000_000 + d) for d in sorted(deps[i])),
            )
        )
    g = build_graph(nodes)
    root = max((str(1_000_000 + i) for i in range(20)), key=lambda n: len(nx.descendants(g, n)))
    return g, root


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", type=int, default=10_000)
    ap.add_argument("--edges", type=int, default=30_000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    g, root = random_dag(args.tasks, args.edges)
    built = time.perf_counter() - t0
    print(f"graph: {g.number_of_nodes()} tasks, {g.number_of_edges()} edges (built in {built * 1000:.0f} ms)")
    sources = [n for n in g if g.in_degree(n) == 0]
    for label, slips in (
        (f"one slip ({root})", [Slip(root, days=5)]),
        (f"every source task slips ({len(sources)})", [Slip(n, days=5) for n in sources]),
    ):
        times, affected = [], 0
        for _ in range(args.repeat):
            t = time.perf_counter()
            res = propagate(g, slips, today=TODAY)
            times.append(time.perf_counter() - t)
            affected = len(res.affected)
        print(
            f"{label}: {affected} affected tasks; median {statistics.median(times) * 1000:.1f} ms, "
            f"best {min(times) * 1000:.1f} ms over {args.repeat} runs (target < 200 ms)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
