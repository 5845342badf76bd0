"""`sprintpilot eval sentiment --data DIR [--train DIR]` (mounted on the `eval` group by the lead)."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from service.cli.errors import friendly
from service.cli.render import add_column, console, fit_columns


@friendly
def sentiment(
    data: Path = typer.Option(..., "--data", help="folder with jira_polarity_*.csv / jira_deva_*.csv"),
    train: Path | None = typer.Option(None, "--train", help="fit on this folder's files, report on --data"),
    seed: int = typer.Option(20240601, "--seed", help="cross-validation seed"),
    as_json: bool = typer.Option(False, "--json", help="print the report as JSON"),
) -> None:
    """Macro-F1 of the offline (zero-shot) and trained sentiment engines, next to published anchors."""
    from evals.sentiment import ANCHORS, run_sentiment_eval

    report = run_sentiment_eval(data, train, seed=seed)
    if as_json:
        typer.echo(json.dumps(report.model_dump(mode="json"), indent=2))
        return
    for task in report.tasks:
        table = Table(title=f"Jira {task.task} ({', '.join(task.files)})")
        for col in ("system", "setting"):
            add_column(table, col)
        for col in ("macro-F1", "accuracy", "n"):
            add_column(table, col, ident=True, justify="right")
        table.add_row(
            "sprintpilot lexicon",
            "zero-shot",
            f"{task.zero_shot.macro_f1:.3f}",
            f"{task.zero_shot.accuracy:.3f}",
            str(task.zero_shot.n),
        )
        if task.zero_shot_without_dev:
            z = task.zero_shot_without_dev
            table.add_row(
                "sprintpilot lexicon",
                "zero-shot, dev rows excluded",
                f"{z.macro_f1:.3f}",
                f"{z.accuracy:.3f}",
                str(z.n),
            )
        if task.trained:
            t = task.trained
            table.add_row(
                "sprintpilot TF-IDF+lexicon",
                task.trained_protocol,
                f"{t.macro_f1:.3f}",
                f"{t.accuracy:.3f}",
                str(t.n),
            )
        for name, f1, acc, kind in ANCHORS[task.task]:
            table.add_row(
                f"[dim]{name}[/]", f"[dim]anchor ({kind})[/]", f"[dim]{f1:.3f}[/]", f"[dim]{acc:.3f}[/]", ""
            )
        fit_columns(table)
        console.print(table)
    for name, ok in report.targets.items():
        console.print(f"{'[green]PASS[/]' if ok else '[red]MISS[/]'} {name}")
    for note in report.notes:
        console.print(f"[dim]{note}[/]")
