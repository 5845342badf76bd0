"""`sprintpilot risk` (alias `deps`): check the dependency graph and cascade a slip through dependents.

sprintpilot risk                                  # scan: Blocked, overdue, predicted-late tasks
sprintpilot risk --task 1200… --days 3            # a task slips 3 working days
sprintpilot risk --task 1200… --new-due 2026-12-04
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from service.cli.errors import friendly
from service.cli.options import date_option
from service.cli.run_agent import run_specialist_command
from tools.errors import UserError


@friendly
def deps(
    project: Annotated[
        list[str],
        typer.Option("--project", help="Project gid or name, repeatable (default: Product Backlog)."),
    ] = [],  # noqa: B006 - typer needs a literal default
    slipped: Annotated[
        str | None, typer.Option("--slipped", "--task", help="gid of the task that slips.")
    ] = None,
    days: Annotated[int | None, typer.Option(help="Working days the task slips.")] = None,
    new_due: Annotated[
        str | None, typer.Option("--new-due", help="The slipped task's new due date (YYYY-MM-DD).")
    ] = None,
    blocked: Annotated[bool, typer.Option(help="Treat --slipped as newly Blocked.")] = False,
    blocked_days: Annotated[int, typer.Option(help="Working days a Blocked task is assumed to slip.")] = 3,
    workspace: Annotated[str | None, typer.Option(help="Workspace gid (default: the first allowed).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    data_dir: Annotated[Path | None, typer.Option(help="Data directory (embedded mode).")] = None,
) -> None:
    """Dependency graph check and delay cascade: Risk Scores and alerts now, due-date shifts for approval."""
    from agents.dependencies import DEPENDENCIES_NAME, DependencyArgs
    from agents.dependencies.analysis import Trigger

    if slipped is None and (days is not None or new_due is not None or blocked):
        raise UserError("--days, --new-due and --blocked need --task TASK_GID")
    trigger: Trigger = "scan" if slipped is None else ("blocked" if blocked else "manual")
    args = DependencyArgs(
        projects=project or ["Product Backlog"],
        workspace=workspace,
        trigger=trigger,
        task=slipped,
        days=days,
        new_due_on=date_option(new_due, "--new-due"),
        blocked_slip_days=blocked_days,
    )
    run_specialist_command(
        DEPENDENCIES_NAME,
        args,
        data_dir=data_dir,
        as_json=as_json,
        approver_project=args.projects[0],
        status_text="dependencies: reading the graph, cascading…",
        approve_hint="Changes wait for approval: [bold]sprintpilot approvals show {pid}[/], then approve",
    )
