"""Planner benchmark through Asana: read a 2,000-item backlog over HTTP, then plan it.

    python -m evals.bench_plan_asana [--tasks 2000] [--edges 3000] [--seed 1]

Starts the sandbox with the seeded team (6 past sprints) plus a large backlog project, reads it
with the planner's own reader through the typed client, computes the plan and prints one table:
read calls against the minimum (one per 100 tasks of each project read + the metadata calls),
read time, planning time (target < 2 s), optimality status. Exit code 1 if the calls exceed the
minimum.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from datetime import date

from rich.console import Console
from rich.table import Table

from agents.planner.inputs import read_planning_inputs
from agents.planner.plan import compute_plan
from sandbox.generator import generate_large_project, generate_workspace
from sandbox.server import SandboxServer
from tools.asana.client import AsanaClient

# me, projects of the workspace (1 page), users of the workspace; find_project by gid = 1 more.
METADATA_CALLS = 4


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", type=int, default=2000)
    ap.add_argument("--edges", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)

    ws = generate_workspace(7)
    big = generate_large_project(ws, args.tasks, args.edges, args.seed)
    with SandboxServer(ws.store, ws.token) as server:
        client = AsanaClient(server.base_url, server.token)
        t0 = time.perf_counter()
        inputs = read_planning_inputs(client, ws.workspace_gid, big.project_gid)
        read_s = time.perf_counter() - t0
        snap = client.calls.snapshot()
        t1 = time.perf_counter()
        plan = compute_plan(inputs, today=date(2026, 11, 23))
        plan_s = time.perf_counter() - t1
        client.close()

    sprint_tasks = sum(len(ws.store.project_tasks(g)) for g in ws.sprint_project_gids)
    pages = math.ceil(args.tasks / 100) + sum(
        math.ceil(len(ws.store.project_tasks(g)) / 100) for g in ws.sprint_project_gids
    )
    minimum = pages + METADATA_CALLS
    table = Table(
        title=f"Planning a {args.tasks}-item backlog with {args.edges} dependency edges (via Asana API)"
    )
    for col in ("metric", "value"):
        table.add_column(col)
    rows = [
        ("backlog tasks read", str(len(inputs.items))),
        ("past sprint tasks read", str(sprint_tasks)),
        ("read calls (by endpoint)", ", ".join(f"{k}: {v}" for k, v in sorted(snap.by_method.items()))),
        ("read calls total / minimum", f"{snap.total} / {minimum}"),
        ("read wall time", f"{read_s:.2f} s"),
        ("capacity", f"{plan.capacity.capacity:g} ({plan.capacity.source})"),
        ("chosen items / points", f"{len(plan.chosen)} / {plan.selection.total_points:g}"),
        (
            "selection status",
            f"{plan.selection.status} ({plan.selection.solver}, gap {plan.selection.gap:.2%})",
        ),
        ("planning time (score+select+assign)", f"{plan_s:.2f} s (target < 2 s)"),
    ]
    for r in rows:
        table.add_row(*r)
    Console().print(table)
    return 0 if snap.total <= minimum else 1


if __name__ == "__main__":
    sys.exit(main())
