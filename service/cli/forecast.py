"""`sprintpilot forecast`: velocity percentiles, scope done-dates and capacity, posted as a status update."""

from __future__ import annotations

import json
import uuid
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from service.cli.errors import friendly


@friendly
def forecast(
    project: Annotated[str, typer.Option(help="Backlog project name or gid.")] = "Product Backlog",
    scope: Annotated[str, typer.Option(help="all | section:X | tag:X | epic:X")] = "all",
    by: Annotated[str, typer.Option(help="How much will be done by this date (YYYY-MM-DD).")] = "",
    as_json: Annotated[bool, typer.Option("--json", help="Print the run report as JSON.")] = False,
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="Where the embedded DB and sandbox state live.")
    ] = None,
) -> None:
    """Forecast the next sprints (P50/P85/P95), when the scope will be done, and capacity per person."""
    from graphs.runner import start_run
    from service.runtime import open_runtime
    from service.settings import load_settings

    args: dict[str, object] = {"project": project, "scope": scope}
    if by:
        args["by"] = date.fromisoformat(by).isoformat()
    overrides = {"data_dir": data_dir} if data_dir is not None else {}
    with open_runtime(load_settings(**overrides)) as rt:
        out = start_run(
            rt.graph,
            rt.context(actor="cli:forecast"),
            f"forecast-{uuid.uuid4().hex[:12]}",
            {"agent": "forecast", "args": args, "trigger": "cli"},
        )
    report = out.report or {}
    if as_json:
        typer.echo(json.dumps(report, indent=2, default=str))
        return
    typer.echo(str(report.get("markdown") or report.get("error") or out.status))
