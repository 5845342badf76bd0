"""`sprintpilot health`: portfolio health with each component's contribution and the trend."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Annotated

import typer

from service.cli.errors import friendly


@friendly
def health(
    portfolio: Annotated[str, typer.Option(help="Portfolio name or gid.")] = "Mobile Portfolio",
    window: Annotated[int, typer.Option(help="Sprints per score.")] = 3,
    as_json: Annotated[bool, typer.Option("--json", help="Print the run report as JSON.")] = False,
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="Where the embedded DB and sandbox state live.")
    ] = None,
) -> None:
    """Score the portfolio's team(s) and post the result as a status update."""
    from graphs.runner import start_run
    from service.runtime import open_runtime
    from service.settings import load_settings

    overrides = {"data_dir": data_dir} if data_dir is not None else {}
    with open_runtime(load_settings(**overrides)) as rt:
        out = start_run(
            rt.graph,
            rt.context(actor="cli:health"),
            f"health-{uuid.uuid4().hex[:12]}",
            {"agent": "health", "args": {"portfolio": portfolio, "window": window}, "trigger": "cli"},
        )
    report = out.report or {}
    if as_json:
        typer.echo(json.dumps(report, indent=2, default=str))
        return
    typer.echo(str(report.get("markdown") or report.get("error") or out.status))
