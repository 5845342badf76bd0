"""`sprintpilot eval …` — offline evaluations on public datasets (mounted by the lead as `eval`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from service.cli.errors import friendly_read_only
from service.cli.render import make_console
from tools.errors import UserError

eval_app = typer.Typer(help="Offline evaluations on public datasets.", no_args_is_help=True)


@eval_app.command("storypoints")
@friendly_read_only
def storypoints(
    data: Annotated[Path, typer.Option("--data", help="the storypoints folder or the datasets root")],
    projects: Annotated[
        str | None, typer.Option("--projects", help="comma-separated project names (default: all)")
    ] = None,
    config: Annotated[
        str,
        typer.Option(
            "--config",
            help="light, best, embeddings (the product's default; weights from make install), "
            "best-checked, embeddings-checked (with the history check), embeddings-recent, "
            "embeddings-recent-checked (recency decay 2, opt-in), a comma list, or all",
        ),
    ] = "all",
    seed: Annotated[int, typer.Option("--seed", help="seed of the random-guessing baseline")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="print one machine-readable JSON object")] = False,
    select: Annotated[
        bool,
        typer.Option(
            "--select",
            help="compare configurations on rolling origins over each project's history "
            "(never its test split)",
        ),
    ] = False,
    fewshot_answers: Annotated[
        Path | None,
        typer.Option(
            "--fewshot-answers",
            help="folder of recorded few-shot model answers: adds the default configuration blended "
            "with them (replayed, no model is called)",
        ),
    ] = None,
    fewshot_model: Annotated[
        str, typer.Option("--fewshot-model", help="the model name the answers were recorded under")
    ] = "",
) -> None:
    """Story-point estimation: per-project MAE, MdAE and SA on the original test split, with anchors."""
    from evals.storypoints import fewshot_replay, render, run_eval
    from evals.storypoints_select import render_selection, run_selection
    from tools.estimation import CONFIGS

    configs = list(CONFIGS) if config == "all" else [c.strip() for c in config.split(",") if c.strip()]
    unknown = [c for c in configs if c not in CONFIGS]
    if unknown or not configs:
        raise UserError(f"unknown --config {config!r}; choose {', '.join(CONFIGS)}, a comma list, or all")
    names = [p.strip() for p in projects.split(",") if p.strip()] if projects else None
    if select:
        chosen = run_selection(data, names, configs, progress=None if as_json else make_console(stderr=True))
        if as_json:
            typer.echo(chosen.model_dump_json())
        else:
            render_selection(chosen, make_console())
        return
    report = run_eval(data, names, configs, seed, fewshot_replay(fewshot_answers, fewshot_model))
    if as_json:
        typer.echo(report.model_dump_json())
    else:
        render(report, make_console())


def _mount_evals() -> None:
    """The evaluations that live in their own modules; this module is only imported to run one."""
    from service.cli.eval_delays import delays
    from service.cli.eval_life import life
    from service.cli.eval_replay import replay
    from service.cli.eval_sentiment import sentiment
    from service.cli.eval_sprints import sprints

    eval_app.command("sentiment")(sentiment)
    eval_app.command("replay")(replay)
    eval_app.command("sprints")(sprints)
    eval_app.command("delays")(delays)
    eval_app.command("life")(life)


_mount_evals()
