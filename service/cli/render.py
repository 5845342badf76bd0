"""Rich renderings of proposals, approval requests and apply reports."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from rich.console import Console
from rich.markdown import Markdown
from rich.panel import Panel
from rich.table import Table

from service.db.proposals import ProposalRecord

console = Console()


def _short(value: Any, limit: int = 60) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str, sort_keys=True)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def change_of(args: dict[str, Any]) -> str:
    params = args.get("params") or {}
    if "field" in params:
        return f"{params['field']} = {_short(params.get('value'), 40)}"
    return ", ".join(f"{k}={_short(v, 30)}" for k, v in params.items() if k not in {"text"}) or "-"


def approval_table(request: dict[str, Any], *, limit: int | None = None) -> Table:
    from graphs.gate import action_requests_of  # on use: keeps `sprintpilot --help` light

    rows = action_requests_of(request)
    table = Table(title=f"Actions waiting for approval ({len(rows)})", show_lines=False)
    table.add_column("#", justify="right")
    table.add_column("action")
    table.add_column("target")
    table.add_column("change")
    table.add_column("why")
    shown = rows if limit is None else rows[:limit]
    for n, req in enumerate(shown, 1):
        args = req.get("args") or {}
        why = str(req.get("description") or "").split(" (policy:")[0]
        table.add_row(
            str(n), req.get("name", ""), str(args.get("target") or "-"), change_of(args), _short(why, 70)
        )
    if limit is not None and len(rows) > limit:
        kinds = Counter(r.get("name") for r in rows[limit:])
        rest = ", ".join(f"{c}× {k}" for k, c in sorted(kinds.items()))
        table.caption = f"… and {len(rows) - limit} more ({rest}); `sprintpilot approvals show` lists all"
    return table


def show_request(request: dict[str, Any], *, limit: int | None = None, summary: bool = True) -> None:
    title = request.get("title", "proposal")
    pid = str(request.get("proposal_id", ""))
    console.print(
        Panel.fit(f"[bold]{title}[/]\nproposal {pid[:12]} · agent {request.get('agent')}", title="proposal")
    )
    if summary and request.get("summary_markdown"):
        console.print(Markdown(request["summary_markdown"]))
    console.print(approval_table(request, limit=limit))
    if request.get("approval_task_gid"):
        console.print(f"Approval task in Asana: [bold]{request['approval_task_gid']}[/]")
    if request.get("error"):
        console.print(f"[yellow]previous answer refused:[/] {request['error']}")


def proposals_table(records: list[ProposalRecord]) -> Table:
    table = Table(title="Proposals")
    table.add_column("id", no_wrap=True, min_width=12)
    for col in ("agent", "title", "status", "actions", "engine", "approval task", "created"):
        table.add_column(col)
    for p in records:
        table.add_row(
            p.id[:12],
            p.agent,
            p.title,
            str(p.status),
            str(len(p.proposal.actions)),
            p.model,
            p.approval_task_gid or "-",
            p.created_at.strftime("%Y-%m-%d %H:%M"),
        )
    return table


def show_report(report: dict[str, Any] | None) -> None:
    if not report:
        console.print("[yellow]no report[/]")
        return
    status = report.get("status", "?")
    color = {"done": "green", "applied": "green", "error": "red"}.get(str(status), "yellow")
    console.print(f"[bold {color}]run {status}[/]")
    if report.get("markdown"):
        console.print(Markdown(str(report["markdown"])))
    elif report.get("message"):
        console.print(str(report["message"]))


def finish_run(
    outcome: Any,
    thread_id: str,
    calls: Any,
    *,
    as_json: bool,
    approve_hint: str,
    answer: dict[str, Any] | None = None,
) -> None:
    """Print a run's outcome the same way for every agent command; exit 1 when the run failed.

    `answer` (the proposal's summary and evidence) comes first: what the agent found, then what it
    wrote or asks to write. `approve_hint` follows the approval table; `{pid}` becomes the id.
    """
    import dataclasses

    import typer

    if as_json:
        payload = {
            "thread_id": thread_id,
            "status": outcome.status,
            "approval_request": outcome.interrupt,
            "report": outcome.report,
            "answer": answer,
            "asana_calls": dataclasses.asdict(calls),
        }
        typer.echo(json.dumps(payload, indent=2, default=str, sort_keys=True))
        if outcome.status == "error":
            raise typer.Exit(1)
        return
    if outcome.status == "error":
        show_report(outcome.report)
        raise typer.Exit(1)
    if outcome.interrupt:
        show_request(outcome.interrupt, limit=15)
        pid = str(outcome.interrupt.get("proposal_id", ""))[:12]
        console.print("\n" + approve_hint.format(pid=pid))
    else:
        if answer is not None and answer.get("summary_markdown"):
            console.print(Markdown(str(answer["summary_markdown"])))
        show_report(outcome.report)
