"""`sprintpilot forecast`: velocity percentiles, scope done-dates and capacity, posted as a status update."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from service.cli.errors import friendly
from service.cli.options import date_option
from service.cli.run_agent import print_report, run_specialist_command


@friendly
def forecast(
    project: Annotated[str, typer.Option(help="Backlog project name or gid.")] = "Product Backlog",
    scope: Annotated[str, typer.Option(help="all | section:X | tag:X | epic:X")] = "all",
    by: Annotated[str, typer.Option(help="How much will be done by this date (YYYY-MM-DD).")] = "",
    method: Annotated[
        str,
        typer.Option(
            help="auto (whichever a backtest on the team's sprints found most accurate) | points | throughput"
        ),
    ] = "auto",
    as_json: Annotated[bool, typer.Option("--json", help="Print the run report as JSON.")] = False,
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="Where the embedded DB and sandbox state live.")
    ] = None,
) -> None:
    """Forecast the next sprints (P50/P85/P95), when the scope will be done, and capacity per person."""
    from agents.forecast import FORECAST_NAME, ForecastArgs

    if method not in ("auto", "points", "throughput"):
        raise typer.BadParameter("use auto, points or throughput", param_hint="--method")
    args = ForecastArgs.model_validate(
        {"project": project, "scope": scope, "by": date_option(by, "--by"), "method": method}
    )
    run_specialist_command(
        FORECAST_NAME,
        args,
        data_dir=data_dir,
        as_json=as_json,
        actor=f"cli:{FORECAST_NAME}",
        thread_prefix=FORECAST_NAME,
        show=print_report,
    )
