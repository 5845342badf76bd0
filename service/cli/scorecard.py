"""`sprintpilot scorecard`: was what sprintpilot predicted right? Per agent, from its own history."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from service.cli.errors import friendly
from service.cli.render import console


@friendly
def scorecard(
    project: Annotated[
        str | None,
        typer.Option(
            "--project",
            help="Only predictions on this project; with --replay, the recorded project to replay "
            "(needed when the folder holds several).",
        ),
    ] = None,
    portfolio: Annotated[
        str | None, typer.Option("--portfolio", help="Only predictions on this portfolio's projects.")
    ] = None,
    days: Annotated[int, typer.Option("--days", min=1, max=730, help="Predictions of the last N days.")] = 90,
    post: Annotated[
        bool, typer.Option("--post", help="Propose this month's scorecard as a status update on --portfolio.")
    ] = False,
    replay: Annotated[
        Path | None,
        typer.Option("--replay", help="Compute it by replaying recorded sprints (datasets root) instead."),
    ] = None,
    sprints: Annotated[
        str | None, typer.Option("--sprints", help="With --replay: which sprints, e.g. '2-10,15'.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="Where the embedded DB and sandbox state live.")
    ] = None,
) -> None:
    """Live accuracy scorecard per agent: estimates, flags, forecast calibration, nudges, approvals."""
    if replay is not None:
        _replay(replay, sprints, as_json, project)
        return
    if post:
        _post(portfolio, days, data_dir, as_json)
        return
    from service.cli.run_agent import load_settings
    from service.runtime import open_runtime
    from service.scorecard import card_json, scorecard_for
    from tools.scorecard.report import tables

    with open_runtime(load_settings(data_dir)) as rt:
        card = scorecard_for(
            rt.context(actor="cli:scorecard"), project=project, portfolio=portfolio, days=days
        )
    if as_json:
        typer.echo(json.dumps(card_json(card), sort_keys=True))
        return
    typer.echo("\n".join(tables(card)))
    console.print(f"[dim]Source: {card.source}.[/]")


def _post(portfolio: str | None, days: int, data_dir: Path | None, as_json: bool) -> None:
    from agents.scorecard import SCORECARD_NAME, ScorecardArgs
    from service.cli.run_agent import print_report, run_specialist_command
    from tools.errors import UserError

    if not portfolio:
        raise UserError("--post needs --portfolio (where the scorecard is posted)")
    run_specialist_command(
        SCORECARD_NAME,
        ScorecardArgs(portfolio=portfolio, days=days),
        data_dir=data_dir,
        as_json=as_json,
        actor=f"cli:{SCORECARD_NAME}",
        thread_prefix=SCORECARD_NAME,
        show=print_report,
    )


def _replay(data: Path, sprints: str | None, as_json: bool, project: str | None = None) -> None:
    from evals.replay.run import run_replay
    from evals.replay.scorecard import compare, replay_scorecard
    from service.scorecard import card_json
    from tools.scorecard.report import tables

    with tempfile.TemporaryDirectory(prefix="scorecard-replay-") as tmp:
        report, result = run_replay(
            data, out_dir=Path(tmp), selection=sprints, project=project, retro=False, charts=False
        )
    card = replay_scorecard(result.sprints)
    pairs = compare(card, report["scores"])
    equal = all(a == b for _, a, b in pairs)
    if as_json:
        out = {
            **card_json(card),
            "replay_scorers": [{"metric": m, "scorer": a, "scorecard": b} for m, a, b in pairs],
        }
        typer.echo(json.dumps({**out, "equal_to_replay_scorers": equal}, sort_keys=True))
        return
    typer.echo("\n".join(tables(card)))
    typer.echo("| number | replay scorer | scorecard | equal |\n|---|---:|---:|---|")
    for metric, a, b in pairs:
        typer.echo(f"| {metric} | {a} | {b} | {'yes' if a == b else 'NO'} |")
    typer.echo("")
    console.print(f"[dim]Source: {card.source}; equal to the replay scorers: {'yes' if equal else 'NO'}.[/]")
    if not equal:
        raise typer.Exit(1)
