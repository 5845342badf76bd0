"""`sprintpilot demo`: the whole flow, offline, on the seeded synthetic team.

sandbox up → plan → proposal shown → approval task approved *in Asana* by the scrum master →
`approvals sync` resumes the waiting graph → apply → read back what now exists → audit verify.
"""

from __future__ import annotations

import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.markup import escape
from rich.table import Table

from graphs.runner import start_run
from service.approvals import sync_from_asana
from service.cli import render
from service.cli.render import console
from service.db.audit_verify import verify_chain
from service.runtime import Runtime, open_runtime
from service.settings import load_settings
from tools.asana.client import AsanaClient
from tools.asana.field_names import SPRINT, STORY_POINTS
from tools.errors import UserError


def run_demo(*, data_dir: Path | None = None, seed: int | None = None) -> None:
    """`seed`: the synthetic team's (default 7); a `data_dir` that already holds a sandbox keeps
    the workspace it was generated with, and a different explicit seed is refused."""
    started = time.perf_counter()
    root = data_dir or Path(tempfile.mkdtemp(prefix="sprintpilot-demo-"))
    settings = load_settings(
        data_dir=root,
        database_url=f"sqlite:///{root / 'sprintpilot.db'}",
        asana_base_url=None,
        model="offline",
    )
    with console.status("starting the Asana sandbox and generating the team workspace…"):
        rt_cm = open_runtime(settings, sandbox_seed=seed)
        rt = rt_cm.__enter__()
    try:
        assert rt.sandbox is not None
        if seed is not None and rt.sandbox.state_seed != seed:
            raise UserError(
                f"--data-dir {root} already holds a demo workspace generated from seed "
                f"{rt.sandbox.state_seed}; use another --data-dir (or none) for seed {seed}"
            )
        console.rule(f"[bold]sprintpilot demo[/] — offline, embedded sandbox, seed {rt.sandbox.state_seed}")
        _run(rt, started)
    finally:
        rt_cm.__exit__(None, None, None)
    console.print(f"\nDemo data kept in {root} (re-run commands with --data-dir {root}).")


def _run(rt: Runtime, started: float) -> None:
    assert rt.sandbox is not None
    console.print(f"Sandbox Asana at [bold]{rt.sandbox.base_url}[/] (engine: {rt.settings.model})")
    ws = rt.resolve_workspace()
    backlog = rt.asana.find_project(ws, "Product Backlog")
    counts = rt.asana.task_counts(backlog.gid)
    people = [u for u in rt.asana.users(ws) if u.gid != rt.asana.me().gid]
    owner = backlog.owner.name if backlog.owner else "?"
    console.print(
        f"Workspace {ws}: {len(people)} people, backlog '{backlog.name}' with "
        f"{counts.num_incomplete_tasks} open tasks; owner (approver) {owner}"
    )

    # 1. plan
    approver = rt.approver_for(ws, backlog.gid)
    ctx = rt.context(actor="agent:planner", approver_gid=approver)
    thread_id = uuid.uuid4().hex
    rt.asana.calls.reset()
    with console.status("planner: reading backlog + sprint history, solving the selection…"):
        t0 = time.perf_counter()
        outcome = start_run(rt.graph, ctx, thread_id, {"agent": "planner", "args": {"project": backlog.gid}})
        plan_s = time.perf_counter() - t0
    if outcome.interrupt is None:
        render.show_report(outcome.report)
        raise SystemExit("the planner did not produce a proposal")
    request = outcome.interrupt
    render.show_request(request, limit=12)
    writes_before = rt.sandbox.store.stats.snapshot()["mutating"]
    console.print(
        f"planned in {plan_s:.2f}s; Asana reads: {rt.asana.calls.snapshot().reads}; "
        f"writes before approval: {sum(writes_before.values())} (approval task + [AI Proposal] comment only: "
        f"{', '.join(f'{k}×{v}' for k, v in writes_before.items())})"
    )

    # 2. approve inside Asana, as the approver would
    approval_gid = request["approval_task_gid"]
    token = rt.sandbox.token_for(approver) if approver else None
    if not token:
        raise SystemExit("no sandbox token for the approver")
    with AsanaClient(rt.sandbox.base_url, token) as as_approver:
        task = as_approver.task(approval_gid)
        who = task.assignee.name if task.assignee else "?"
        console.rule("approval in Asana")
        console.print(
            f"Approval task [bold]{task.name}[/] ({task.resource_subtype}, {task.approval_status}), "
            f"assigned to {who}, due {_when(task.due_at) if task.due_at else task.due_on}"
        )
        as_approver.update_task(approval_gid, {"approval_status": "approved"})
        console.print(f"{who} marks it [green]approved[/] in Asana.")

    # 3. sync → resume → apply
    with console.status("approvals sync: resuming the waiting run and applying…"):
        results = sync_from_asana(rt)
    for r in results:
        if r.outcome is not None:
            render.show_report(r.outcome.report)

    # 4. read back what exists now
    _read_back(rt, ws, request, approval_gid)

    # 5. audit
    result = verify_chain(rt.engine)
    status = "[green]OK[/]" if result.ok else f"[red]TAMPERED at row {result.first_bad_id}[/]"
    console.print(f"audit verify: {status} ({result.rows_checked} rows)")
    console.print(f"demo finished in {time.perf_counter() - started:.1f}s")


def _when(moment: datetime) -> str:
    """A due time to the minute, with its zone: `2026-12-08 14:05 UTC`."""
    return f"{moment:%Y-%m-%d %H:%M} {moment.tzname() or ''}".rstrip()


def _read_back(rt: Runtime, ws: str, request: dict[str, Any], approval_gid: str) -> None:
    console.rule("what now exists in Asana (read back through the API)")
    sprint_name = str(request.get("title", "")).removeprefix("Approve ").removesuffix(" backlog")
    project = rt.asana.find_project(ws, sprint_name)
    sections = [s.name for s in rt.asana.sections(project.gid)]
    tasks = rt.asana.project_tasks(project.gid)
    console.print(
        f"Project [bold]{project.name}[/] {project.start_on} → {project.due_on}; "
        f"sections: {', '.join(map(str, sections))}"
    )
    table = Table(title=f"{project.name}: {len(tasks)} tasks")
    render.add_column(table, "task")
    render.add_column(table, "points", justify="right")
    for col in (SPRINT, "assignee", "section"):
        render.add_column(table, col)
    for t in tasks:
        sec = t.section_in(project.gid)
        table.add_row(
            escape(t.name or t.gid),
            t.display(STORY_POINTS) or "-",
            t.display(SPRINT) or "-",
            t.assignee.name if t.assignee and t.assignee.name else "-",
            sec.name if sec and sec.name else "-",
        )
    render.fit_columns(table)
    console.print(table)
    updates = rt.asana.status_updates(project.gid)
    if updates:
        console.print(
            f"Status update on {project.name}: [bold]{updates[0].title}[/] ({updates[0].status_type})"
        )
    comments = [s for s in rt.asana.stories(approval_gid) if s.type == "comment"]
    if comments:
        console.print("[AI Proposal] comment on the approval task (first lines):")
        console.print(render.CliMarkdown("\n".join((comments[0].text or "").splitlines()[:8])))
