"""`sprintpilot eval sprints`: sprint-delivery model on TSE2017, forecast calibration (evals/sprints.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from service.cli.errors import friendly


@friendly
def sprints(
    data: Annotated[Path, typer.Option(help="Datasets root (or the sprints folder).")],
    projects: Annotated[
        str, typer.Option(help="Comma-separated TSE2017 projects (default: the dev four).")
    ] = "",
    seed: Annotated[int, typer.Option(help="Model seed.")] = 0,
    calibration: Annotated[bool, typer.Option(help="Also the Spring XD forecast calibration.")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print the full result as JSON.")] = False,
) -> None:
    """NMAE at 0% and 30% per project (10-fold CV and forward-chaining) beside the published anchors."""
    from evals.sprints import format_table, run

    chosen = [p.strip() for p in projects.split(",") if p.strip()] or None
    summary = run(data, chosen, seed=seed, calibration=calibration)
    typer.echo(json.dumps(summary, indent=2, default=str) if as_json else format_table(summary))
