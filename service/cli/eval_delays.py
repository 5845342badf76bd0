"""`sprintpilot eval delays`: the delay-risk classifier on EMSE2017 (see evals/delays.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from service.cli.errors import friendly_read_only


@friendly_read_only
def delays(
    data: Annotated[Path, typer.Option(help="Datasets root (or the delays/emse2017 folder).")],
    projects: Annotated[
        str, typer.Option(help="Comma-separated projects (default: every <project>_due.csv found).")
    ] = "",
    seed: Annotated[int, typer.Option(help="Split and model seed.")] = 0,
    temporal: Annotated[
        bool, typer.Option(help="Also report a time-ordered 80/20 split (all features, Asana-readable).")
    ] = False,
    inner: Annotated[
        bool, typer.Option(help="Score on the inner time-ordered split of the training part (selection).")
    ] = False,
    variant: Annotated[str, typer.Option(help="Model variant (see evals.delays.VARIANTS).")] = "blend",
    as_json: Annotated[bool, typer.Option("--json", help="Print the full result as JSON.")] = False,
) -> None:
    """Precision, recall, F1 and AUC of the delay-risk model per project, beside the published anchors."""
    from evals.delays import format_table, run

    chosen = [p.strip().lower() for p in projects.split(",") if p.strip()] or None
    summary = run(data, chosen, seed=seed, temporal=temporal, inner=inner, variant=variant)
    typer.echo(json.dumps(summary, indent=2) if as_json else format_table(summary))
