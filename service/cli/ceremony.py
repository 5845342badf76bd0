"""`sprintpilot ceremony planning|review|retro --project ...`: the agenda task and its .ics invite."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from service.cli.errors import friendly
from service.cli.run_agent import run_specialist_command
from tools.errors import UserError

if TYPE_CHECKING:
    from service.runtime import Runtime


@friendly
def ceremony(
    kind: Annotated[str, typer.Argument(metavar="planning|review|retro", help="Which ceremony to prepare.")],
    project: Annotated[
        str, typer.Option(help="The team's backlog project: gid or name.")
    ] = "Product Backlog",
    no_reminder: Annotated[
        bool, typer.Option("--no-reminder", help="No reminder comment on the working day before.")
    ] = False,
    top: Annotated[int, typer.Option(help="Backlog items on the planning agenda.")] = 10,
    workspace: Annotated[str | None, typer.Option(help="Workspace gid (default: the first allowed).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="Where the embedded DB and sandbox state live.")
    ] = None,
) -> None:
    """Prepare a ceremony: agenda task (due at its start) with an .ics invite; reminder the day before."""
    from agents.ceremonies import CEREMONY_NAME

    if kind not in ("planning", "review", "retro"):
        raise UserError(f"unknown ceremony {kind!r}; choose planning, review or retro")

    def args(rt: Runtime) -> dict[str, Any]:
        return {
            "ceremony": kind,
            "project": project,
            "workspace": workspace,
            "timezone": rt.settings.timezone,
            "times": rt.settings.ceremony_times,
            "remind": rt.settings.ceremony_reminders and not no_reminder,
            "top": top,
        }

    run_specialist_command(
        CEREMONY_NAME,
        args,
        data_dir=data_dir,
        as_json=as_json,
        approver_project=project,
        status_text=f"ceremony: preparing the {kind} agenda…",
        approve_hint="Approve the agenda task and its invite in Asana, or here: "
        "[bold]sprintpilot approvals approve {pid}[/]",
    )
