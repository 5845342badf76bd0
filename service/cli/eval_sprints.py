"""`sprintpilot eval sprints`: the sprint-delivery model on every TSE2017 project found under --data and
the forecast calibration on every Koralage project found (evals/sprints.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from service.cli.errors import friendly_read_only


@friendly_read_only
def sprints(
    data: Annotated[Path, typer.Option(help="Datasets root (or the sprints folder).")],
    projects: Annotated[
        str, typer.Option(help="Comma-separated project names (default: every project found under --data).")
    ] = "",
    seed: Annotated[int, typer.Option(help="Model seed.")] = 0,
    variants: Annotated[
        str, typer.Option(help="Comma-separated candidate variants (default: all; one: no selection).")
    ] = "",
    calibration: Annotated[bool, typer.Option(help="Also each Koralage forecast calibration.")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print the full result as JSON.")] = False,
) -> None:
    """NMAE at 0% and 30% per project (10-fold CV and forward chaining), the gain over the best naive
    baseline, and the forecast calibration; says which projects it found."""
    from evals.sprints import format_table, pick_variants, run

    chosen = [p.strip() for p in projects.split(",") if p.strip()] or None
    summary = run(data, chosen, seed=seed, calibration=calibration, variants=pick_variants(variants))
    typer.echo(json.dumps(summary, indent=2, default=str) if as_json else format_table(summary))
