"""`sprintpilot standup --project ...`: today's stand-up on demand (same thread as the schedule)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from service.cli.errors import friendly, report_message
from service.cli.options import timezone_option


@friendly
def standup(
    project: Annotated[str, typer.Option(help="Sprint project: gid or name.")],
    timezone: Annotated[
        str | None,
        typer.Option(
            help="The team's IANA time zone, which decides 'today' (default: SPRINTPILOT_TIMEZONE, UTC).",
            show_default=False,
        ),
    ] = None,
    workspace: Annotated[str | None, typer.Option(help="Workspace gid (default: the first allowed).")] = None,
    no_nudges: Annotated[bool, typer.Option("--no-nudges", help="Do not comment on at-risk tasks.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    data_dir: Annotated[Path | None, typer.Option(help="Data directory (default: settings).")] = None,
) -> None:
    """Post today's stand-up for a sprint project (at most one per project per day)."""
    from service.runtime import open_runtime
    from service.schedules.standup import run_daily_standup
    from service.settings import load_settings

    if timezone is not None:
        timezone_option(timezone)
    settings = load_settings(data_dir=data_dir) if data_dir else load_settings()
    with open_runtime(settings) as rt:
        result = run_daily_standup(
            rt,
            project,
            timezone=timezone or settings.timezone,
            trigger="cli",
            workspace=workspace,
            args={"nudge": not no_nudges},
        )
        record = rt.repo.get_proposal(result.proposal_id) if result.proposal_id else None
    if result.status == "error" and not as_json:
        report_message(str((result.report or {}).get("error") or "the stand-up failed"))
        raise typer.Exit(1)
    if as_json:
        payload = {
            "project": result.project_gid,
            "day": result.day,
            "thread_id": result.thread_id,
            "status": result.status,
            "report": result.report,
            "answer": (
                {
                    "summary_markdown": record.proposal.summary_markdown,
                    "evidence": record.proposal.evidence,
                    "engine": record.proposal.model,
                }
                if record is not None
                else None
            ),
        }
        typer.echo(json.dumps(payload, indent=2, default=str, sort_keys=True))
        if result.status == "error":
            raise typer.Exit(1)
        return
    if result.status == "already_done":
        typer.echo(f"Stand-up for {result.day} already done (thread {result.thread_id}); nothing written.")
        return
    if record is not None:
        typer.echo(record.proposal.summary_markdown)
    typer.echo(f"\n{result.status}: thread {result.thread_id}")
