"""`sprintpilot retro --project ...`: run the retro agent and put its proposal up for approval."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from service.cli.errors import friendly
from service.cli.run_agent import run_specialist_command


@friendly
def retro(
    project: Annotated[
        str | None, typer.Option(help="Sprint project: gid or name (default: the last ended sprint).")
    ] = None,
    history: Annotated[int, typer.Option(help="Earlier sprints compared for recurring themes.")] = 3,
    workspace: Annotated[str | None, typer.Option(help="Workspace gid (default: the first allowed).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="Where the embedded DB and sandbox state live.")
    ] = None,
) -> None:
    """Sprint retrospective: numbers, sentiment, themes → retro notes, action items, review draft."""
    from agents.retro import RETRO_NAME, RetroArgs

    run_specialist_command(
        RETRO_NAME,
        RetroArgs(project=project, workspace=workspace, history=history),
        data_dir=data_dir,
        as_json=as_json,
        approver_project=project or "Product Backlog",
        status_text="retro: reading the sprint, its stories and earlier sprints…",
        approve_hint="The numbers and review draft were posted as a status update. Approve the retro "
        "task and action items in Asana, or here: [bold]sprintpilot approvals approve {pid}[/]",
    )
