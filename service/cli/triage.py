"""`sprintpilot triage` — backlog refinement on demand (a task, or a project's unestimated tasks).

Mount with `app.command("triage")(triage)`. Every triage action is auto class under the default
policy (AI fields + an `[AI Proposal]` comment), so the run applies them and finishes without an
approval interrupt; the report is printed.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer

from service.cli.errors import friendly


@friendly
def triage(
    task: Annotated[str | None, typer.Option("--task", help="Task gid to refine.")] = None,
    project: Annotated[
        str | None, typer.Option("--project", help="Project gid or name: refine its open tasks.")
    ] = None,
    unestimated: Annotated[
        bool, typer.Option("--unestimated", help="With --project: only tasks without Story Points.")
    ] = False,
    workspace: Annotated[str | None, typer.Option(help="Workspace gid (default: the first allowed).")] = None,
    limit: Annotated[int, typer.Option(help="At most this many tasks in one run.", min=1, max=100)] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    data_dir: Annotated[
        Path | None,
        typer.Option("--data-dir", help="Where the embedded DB and sandbox state live.", show_default=False),
    ] = None,
) -> None:
    """Estimate story points (with similar past tasks), find acceptance criteria, score priority and risk."""
    from agents.triage import TriageArgs
    from graphs.runner import start_run
    from service.cli import render
    from service.runtime import open_runtime
    from service.settings import load_settings

    if not task and not project:
        raise ValueError("give --task GID or --project P (with --unestimated for unestimated tasks only)")
    args = TriageArgs(task=task, project=project, unestimated=unestimated, workspace=workspace, limit=limit)
    settings = load_settings(**({"data_dir": data_dir} if data_dir is not None else {}))
    with open_runtime(settings) as rt:
        ctx = rt.context(actor="agent:triage")
        thread_id = uuid.uuid4().hex
        request = {
            "agent": "triage",
            "args": args.model_dump(exclude_none=True, exclude_defaults=True),
            "trigger": "cli",
        }
        outcome = start_run(rt.graph, ctx, thread_id, request)
        proposal = None
        if outcome.report and outcome.report.get("proposal_id"):
            record = rt.repo.get_proposal(outcome.report["proposal_id"])
            proposal = getattr(record, "proposal", None)
        if as_json:
            payload = {
                "thread_id": thread_id,
                "status": outcome.status,
                "approval_request": outcome.interrupt,
                "report": outcome.report,
                "evidence": proposal.evidence if proposal is not None else None,
                "asana_calls": asdict(rt.asana.calls.snapshot()),
            }
            typer.echo(json.dumps(payload, indent=2, default=str, sort_keys=True))
            if outcome.status == "error":
                raise typer.Exit(1)
            return
        if proposal is not None:
            from rich.markdown import Markdown

            render.console.print(Markdown(proposal.summary_markdown))
        if outcome.interrupt:
            render.show_request(outcome.interrupt, limit=15)
        else:
            render.show_report(outcome.report)
        if outcome.status == "error":
            raise typer.Exit(1)
