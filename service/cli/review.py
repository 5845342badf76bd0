"""`sprintpilot review --task GID [--dod FILE] [--json]`: a Definition-of-Done review on demand.

Mount with `app.command("review")(review)` in service/cli/main.py. The review itself runs through
the supervisor graph like any agent: the findings comment is posted automatically, the move on
a full pass waits at the approval gate.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from service.cli import render
from service.cli.errors import friendly
from service.cli.render import console
from service.cli.run_agent import AgentRun, run_specialist_command

if TYPE_CHECKING:
    from service.runtime import Runtime


def review_payload(outcome: Any, proposal: Any, thread_id: str, calls: dict[str, Any]) -> dict[str, Any]:
    """The JSON the command prints: the outcome plus the review's findings (from the proposal)."""
    ev = proposal.evidence if proposal is not None else {}
    return {
        "thread_id": thread_id,
        "status": outcome.status,
        "passed": ev.get("passed"),
        "findings": ev.get("findings", []),
        "checks": ev.get("checks", []),
        "criteria": ev.get("criteria", []),
        "dod_source": ev.get("dod_source"),
        "proposal_id": proposal.id if proposal is not None else None,
        "approval_request": outcome.interrupt,
        "report": outcome.report,
        "asana_calls": calls,
    }


def _show(payload: dict[str, Any]) -> None:
    if payload["passed"] is None:
        return
    verdict = "[bold green]DoD met[/]" if payload["passed"] else "[bold red]DoD not met[/]"
    console.print(f"{verdict}  (DoD source: {payload['dod_source']})")
    table = Table()
    render.add_column(table, "check", ident=True)
    render.add_column(table, "result")
    render.add_column(table, "summary")
    for c in payload["checks"]:
        result = "[green]pass[/]" if c["passed"] else "[red]fail[/]"
        table.add_row(escape(c["id"]), result, escape(c["summary"]))
    render.fit_columns(table)
    console.print(table)
    for i, f in enumerate(payload["findings"], 1):
        console.print(f"{i}. {f['item']}\n   [dim]→ {f['satisfy']}[/]")


@friendly
def review(
    task: Annotated[str, typer.Option("--task", help="Gid of the task to review.")],
    dod: Annotated[
        Path | None,
        typer.Option(
            "--dod",
            envvar="SPRINTPILOT_DOD_FILE",
            help="DoD YAML file (beats per-project files and the project's “Definition of Done” task).",
            show_default=False,
        ),
    ] = None,
    project: Annotated[str | None, typer.Option(help="Project gid to review in (default: inferred).")] = None,
    workspace: Annotated[str | None, typer.Option(help="Workspace gid (default: the project's).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    data_dir: Annotated[
        Path | None,
        typer.Option("--data-dir", help="Where the embedded DB and sandbox state live.", show_default=False),
    ] = None,
) -> None:
    """Check a task against the Definition of Done; comment the gaps or propose the move."""
    from agents.qa import QA_NAME, QaArgs
    from tools.dod.loader import load_dod_file

    loaded = load_dod_file(dod) if dod is not None else None
    args = QaArgs(
        task=task,
        project=project,
        workspace=workspace,
        dod=loaded.config.model_dump(mode="json") if loaded else None,
        dod_source=str(dod) if dod is not None else None,
    )

    def review_project_of(rt: Runtime) -> str | None:
        """The project to find the approver in: the given one, else the task's first project."""
        subject = rt.asana.task(args.task)
        return args.project or next((p.gid for p in subject.projects), None)

    run_specialist_command(
        QA_NAME,
        args,
        data_dir=data_dir,
        as_json=as_json,
        approver_project=review_project_of,
        status_text="reviewing: reading the task, its subtasks, comments and attachments…",
        show=_show_review,
    )


def _show_review(run: AgentRun) -> None:
    outcome = run.outcome
    payload = review_payload(outcome, run.proposal(), run.thread_id, run.calls())
    payload["answer"] = run.answer()
    if run.as_json:
        typer.echo(json.dumps(payload, indent=2, default=str, sort_keys=True))
        if outcome.status == "error":
            raise typer.Exit(1)
        return
    if outcome.status == "error":
        render.show_report(outcome.report)
        raise typer.Exit(1)
    _show(payload)
    if outcome.interrupt:
        render.show_request(outcome.interrupt, summary=False)
        console.print(
            f"\nApprove the move: [bold]sprintpilot approvals approve {str(run.proposal_id())[:12]}[/]"
        )
    else:
        render.show_report(outcome.report)
