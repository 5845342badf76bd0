"""`sprintpilot retro --project ...`: run the retro agent and put its proposal up for approval."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Annotated, Any

import typer

from service.cli import render
from service.cli.errors import friendly
from service.cli.render import console


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
    from agents.retro import RetroArgs
    from graphs.runner import start_run
    from service.runtime import open_runtime
    from service.settings import load_settings

    overrides: dict[str, Any] = {"data_dir": data_dir} if data_dir is not None else {}
    with open_runtime(load_settings(**overrides)) as rt:
        ws = workspace or rt.allowed_workspaces()[0]
        args = RetroArgs(project=project, workspace=workspace, history=history)
        ctx = rt.context(actor="agent:retro", approver_gid=rt.approver_for(ws, project or "Product Backlog"))
        thread_id = uuid.uuid4().hex
        with console.status("retro: reading the sprint, its stories and earlier sprints…"):
            outcome = start_run(
                rt.graph,
                ctx,
                thread_id,
                {"agent": "retro", "args": args.model_dump(exclude_none=True), "trigger": "cli"},
            )
        render.finish_run(
            outcome,
            thread_id,
            rt.asana.calls.snapshot(),
            as_json=as_json,
            approve_hint="The numbers and review draft were posted as a status update. Approve the retro "
            "task and action items in Asana, or here: [bold]sprintpilot approvals approve {pid}[/]",
        )
