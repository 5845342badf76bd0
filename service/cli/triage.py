"""`sprintpilot triage` — backlog refinement on demand (a task, or a project's unestimated tasks).

Mount with `app.command("triage")(triage)`. Every triage action is auto class under the default
policy (AI fields + an `[AI Proposal]` comment), so the run applies them and finishes without an
approval interrupt; the report is printed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from service.cli import render
from service.cli.errors import friendly
from service.cli.run_agent import AgentRun, run_specialist_command
from tools.errors import UserError


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
    from agents.triage import TRIAGE_NAME, TriageArgs

    if not task and not project:
        raise UserError("give --task GID or --project P (with --unestimated for unestimated tasks only)")
    args = TriageArgs(task=task, project=project, unestimated=unestimated, workspace=workspace, limit=limit)
    run_specialist_command(
        TRIAGE_NAME,
        args.model_dump(exclude_none=True, exclude_defaults=True),
        data_dir=data_dir,
        as_json=as_json,
        show=_show_triage,
    )


def _show_triage(run: AgentRun) -> None:
    """The refinement summary, then the report (every triage action is auto: no approval table)."""
    outcome = run.outcome
    proposal = None
    if outcome.report and outcome.report.get("proposal_id"):
        record = run.rt.repo.get_proposal(outcome.report["proposal_id"])
        proposal = getattr(record, "proposal", None)
    if run.as_json:
        payload = {
            "thread_id": run.thread_id,
            "status": outcome.status,
            "approval_request": outcome.interrupt,
            "report": outcome.report,
            "evidence": proposal.evidence if proposal is not None else None,
            "answer": run.answer(),
            "asana_calls": run.calls(),
        }
        typer.echo(json.dumps(payload, indent=2, default=str, sort_keys=True))
        if outcome.status == "error":
            raise typer.Exit(1)
        return
    if proposal is not None:
        render.console.print(render.CliMarkdown(proposal.summary_markdown))
    if outcome.interrupt:
        render.show_request(outcome.interrupt, limit=15)
    else:
        render.show_report(outcome.report)
    if outcome.status == "error":
        raise typer.Exit(1)
