"""Triage throughput with 1, 2 and 4 workers under Asana's quota (issue 23):
`python -m evals.bench_triage_throughput [--tasks 120] [--workers 1,2,4] [--quota paid]`.

Each configuration starts the whole pipeline (evals/pipeline_stack.py: the seeded sandbox with
Asana's per-token quota, the webhook receiver on Postgres, a Celery worker with N processes, the
beat). A person then adds `--tasks` new tasks to the backlog; the clock runs from the first
creation until every one of them has been triaged (its "added to the project" event handled). The
table gives triaged tasks per minute, the service's Asana calls per task, its 429s, and the
ceiling the quota allows at that many calls per task: throughput should grow with workers until
it meets the ceiling (issue 23's goal: >= 300 tasks/minute under 1,500 requests/minute).

The daily budget of automatic writes (150 per project, a noise guard) is lifted here, because a
form import of hundreds of requests is what this measures.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from evals.pipeline_stack import PipelineStack, wait_for
from sandbox.quotas import PLANS
from service.db.engine import read_session
from service.db.events import InboxEvent

GOAL_PER_MIN = 300.0
HANDLED = ("done", "skipped", "quarantined")


@dataclass
class Row:
    workers: int
    tasks: int
    seconds: float
    per_minute: float
    calls_per_task: float
    throttled: int
    ceiling_per_minute: float
    by_route: dict[str, int]


def _handled(stack: PipelineStack, gids: set[str]) -> int:
    with read_session(stack.engine) as session:
        rows = session.execute(
            select(InboxEvent.resource_gid, InboxEvent.payload, InboxEvent.status).where(
                InboxEvent.resource_gid.in_(gids), InboxEvent.action == "added"
            )
        ).all()
    return len(
        {
            gid
            for gid, payload, status in rows
            if status in HANDLED and ((payload or {}).get("parent") or {}).get("resource_type") == "project"
        }
    )


def measure(workers: int, tasks: int, quota: str, timeout_s: float) -> Row:
    env = {"SPRINTPILOT_APPROVAL_POLICY": json.dumps({"daily_write_budget": None})}
    with PipelineStack(concurrency=workers, quotas=quota, worker_env=env) as stack:
        backlog, workspace = stack.ws.backlog_project_gid, stack.ws.workspace_gid
        # Warm-up: one task triaged before the clock starts (a process's first reads, e.g. the
        # project's whole task list and field settings, are not what a burst costs).
        first = stack.approver.create_task(
            name="Warm-up: export invoices", workspace_gid=workspace, projects=[backlog]
        )
        wait_for(lambda: _handled(stack, {first.gid}) == 1, timeout=timeout_s, what="the warm-up triage")
        before = stack.sandbox.store.stats.snapshot()
        start = time.monotonic()
        gids = {
            stack.approver.create_task(
                name=f"Import request {i}: add a CSV export to report {i}",
                workspace_gid=workspace,
                projects=[backlog],
                notes=f"As an analyst I want report {i} as CSV so that I can reconcile it.",
            ).gid
            for i in range(tasks)
        }
        wait_for(lambda: _handled(stack, gids) == tasks, timeout=timeout_s, interval=0.25, what="the triages")
        seconds = time.monotonic() - start
        after = stack.sandbox.store.stats.snapshot()
    # Requests made by sprintpilot: everything counted, less the person's own creations.
    calls = after["total"] - before["total"] - tasks
    throttled = int(after["by_status"].get("429", 0)) - int(before["by_status"].get("429", 0))
    by_route = {
        route: count - int(before["by_route"].get(route, 0))
        for route, count in after["by_route"].items()
        if count > int(before["by_route"].get(route, 0))
    }
    per_task = calls / tasks
    return Row(
        workers=workers,
        tasks=tasks,
        seconds=seconds,
        per_minute=tasks / seconds * 60,
        calls_per_task=per_task,
        throttled=throttled,
        ceiling_per_minute=PLANS[quota] / per_task if per_task else float("inf"),
        by_route=by_route,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--tasks", type=int, default=120, help="new tasks added at once (default 120)")
    parser.add_argument("--workers", default="1,2,4", help="worker processes to compare (default 1,2,4)")
    parser.add_argument("--quota", default="paid", choices=sorted(PLANS), help="the sandbox's quota plan")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds to wait per configuration")
    ns = parser.parse_args(argv)
    try:
        counts = [int(w) for w in ns.workers.split(",") if w.strip()]
    except ValueError:
        parser.error(f"--workers takes numbers like 1,2,4, not {ns.workers!r}")
    if ns.tasks < 1 or not counts or min(counts) < 1:
        parser.error("--tasks and every --workers count must be at least 1")
    print(f"Triage of {ns.tasks} new backlog tasks, quota {ns.quota} ({PLANS[ns.quota]:,} requests/minute)")
    print("| workers | seconds | triaged/min | Asana calls/task | 429s | quota ceiling/min | goal |")
    print("|---:|---:|---:|---:|---:|---:|---|")
    for workers in counts:
        r = measure(workers, ns.tasks, ns.quota, ns.timeout)
        met = "met" if r.per_minute >= GOAL_PER_MIN else "not met"
        print(
            f"| {r.workers} | {r.seconds:.1f} | {r.per_minute:.0f} | {r.calls_per_task:.2f} | {r.throttled} "
            f"| {r.ceiling_per_minute:.0f} | >= {GOAL_PER_MIN:.0f}/min: {met} |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
