"""`sprintpilot eval life`: a simulated team lives with sprintpilot for several sprints (evals/life.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from service.cli.errors import friendly_read_only


@friendly_read_only
def life(
    sprints: Annotated[
        int, typer.Option(min=1, max=12, help="How many two-week sprints to live through.")
    ] = 3,
    seed: Annotated[int, typer.Option(help="Seed of the sandbox workspace and of the team's behaviour.")] = 7,
    data_dir: Annotated[
        Path | None,
        typer.Option("--data-dir", help="Keep the simulated workspace and DB here (default: temp)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="No per-day progress on stderr.")] = False,
) -> None:
    """Day by day through SPRINTS sprints on the sandbox: the beat's schedule, webhook events for human
    edits, people who approve, edit, reject and ignore proposals; then the checks (exit 1 if one fails)."""
    from evals.life import LifeConfig, format_table, simulate

    def progress(line: str) -> None:
        if not quiet and not as_json:
            typer.echo(line, err=True)

    result = simulate(LifeConfig(sprints=sprints, seed=seed), data_dir, progress=progress)
    typer.echo(result.model_dump_json(indent=2) if as_json else format_table(result))
    if not result.ok:
        raise typer.Exit(1)
