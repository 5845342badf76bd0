"""End-to-end latency: an approval made in Asana (sandbox) → the approved writes applied.

Path measured: PUT approval_status (scrum master) → sandbox webhook (signed HTTP POST) → FastAPI
receiver (inbox + outbox, one transaction) → relay (beat, every 0.5 s here) → Redis → Celery
worker → graph resume → apply (Asana writes) → proposal `applied`.

    python -m evals.bench_approval_e2e --runs 5

Prints one row per run and the median: time to the event in the inbox, to the worker taking
it, and to the proposal being applied, plus how many Asana writes the apply made.
"""

from __future__ import annotations

import argparse
import statistics
import time

from rich.console import Console
from rich.table import Table

from evals.pipeline_stack import PipelineStack, wait_for

FINISHED = {"applied", "partially_applied", "rejected", "failed", "error", "conflict"}


def _one_run(stack: PipelineStack) -> dict[str, float]:
    request = stack.plan()
    task_gid, pid = request["approval_task_gid"], request["proposal_id"]
    before = stack.mutations()
    t0 = time.perf_counter()
    stack.set_approval(task_gid, "approved")

    def approval_row() -> object:
        return next(
            (
                r
                for r in stack.inbox_rows()
                if r.resource_gid == task_gid
                and (r.payload.get("change") or {}).get("field") == "approval_status"
            ),
            None,
        )

    row = wait_for(approval_row, 60, 0.01, "event in the inbox")
    t_inbox = time.perf_counter() - t0
    wait_for(lambda: stack.delivery(row.id) is not None, 60, 0.01, "worker start")
    t_worker = time.perf_counter() - t0
    status = wait_for(lambda: (s := stack.proposal_status(pid)) in FINISHED and s, 120, 0.02, "apply")
    t_applied = time.perf_counter() - t0
    writes = sum((stack.mutations() - before).values()) - 1  # minus the approver's own PUT
    if status != "applied":
        raise RuntimeError(f"run ended {status}")
    return {"inbox": t_inbox, "worker": t_worker, "applied": t_applied, "writes": float(writes)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    results = []
    with PipelineStack() as stack:
        for _ in range(args.runs):
            results.append(_one_run(stack))
    table = Table(title="Approval in Asana → writes applied (sandbox, local Postgres/Redis, 1 worker x2)")
    for column in ("run", "event in inbox (s)", "worker started (s)", "applied (s)", "Asana writes"):
        table.add_column(column, justify="right")
    for i, r in enumerate(results, 1):
        table.add_row(
            str(i), f"{r['inbox']:.3f}", f"{r['worker']:.3f}", f"{r['applied']:.2f}", f"{r['writes']:.0f}"
        )
    med = {k: statistics.median(r[k] for r in results) for k in results[0]}
    table.add_row(
        "median",
        f"{med['inbox']:.3f}",
        f"{med['worker']:.3f}",
        f"{med['applied']:.2f}",
        f"{med['writes']:.0f}",
    )
    Console().print(table)


if __name__ == "__main__":
    main()
