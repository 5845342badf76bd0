"""`sprintpilot health`: portfolio health with each component's contribution and the trend."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from service.cli.errors import friendly
from service.cli.run_agent import print_report, run_specialist_command


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
    from agents.health import HEALTH_NAME, HealthArgs

    run_specialist_command(
        HEALTH_NAME,
        HealthArgs(portfolio=portfolio, window=window),
        data_dir=data_dir,
        as_json=as_json,
        actor=f"cli:{HEALTH_NAME}",
        thread_prefix=HEALTH_NAME,
        show=print_report,
    )
