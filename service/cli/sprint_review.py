"""`sprintpilot sprint-review --project ...`: the sprint review document, attached after approval."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from service.cli.errors import friendly
from service.cli.run_agent import run_specialist_command


@friendly
def sprint_review(
    project: Annotated[
        str | None, typer.Option(help="Sprint project: gid or name (default: the last ended sprint).")
    ] = None,
    workspace: Annotated[str | None, typer.Option(help="Workspace gid (default: the first allowed).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="Where the embedded DB and sandbox state live.")
    ] = None,
) -> None:
    """Sprint review document: delivered work by epic with demo notes, what slipped and why."""
    from agents.retro import SPRINT_REVIEW_NAME, SprintReviewArgs

    run_specialist_command(
        SPRINT_REVIEW_NAME,
        SprintReviewArgs(project=project, workspace=workspace),
        data_dir=data_dir,
        as_json=as_json,
        approver_project=project or "Product Backlog",
        status_text="sprint review: reading the sprint's tasks, comments and history…",
        approve_hint="Approve attaching the review and its status update in Asana, or here: "
        "[bold]sprintpilot approvals approve {pid}[/]",
    )
