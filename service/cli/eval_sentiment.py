"""`sprintpilot eval sentiment --data DIR [--train DIR]` (mounted on the `eval` group by the lead)."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from service.cli.errors import friendly_read_only
from service.cli.render import add_column, console, fit_columns


def _embeddings_wanted(mode: str) -> bool:
    from tools.estimation.embeddings import INSTALL_HINT, available

    if mode not in ("auto", "on", "off"):
        raise typer.BadParameter("--embeddings must be auto, on or off")
    if mode == "off":
        return False
    if mode == "on" and not available():
        raise typer.BadParameter(INSTALL_HINT)
    return available()


@friendly_read_only
def sentiment(
    data: Path = typer.Option(..., "--data", help="folder searched for jira_*_*.csv"),
    train: Path | None = typer.Option(None, "--train", help="fit on this folder's files, report on --data"),
    seed: int = typer.Option(20240601, "--seed", help="cross-validation seed"),
    embeddings: str = typer.Option("auto", "--embeddings", help="MiniLM variant: auto, on, off"),
    save_model: Path | None = typer.Option(
        None, "--save-model", help="also fit the engine on every row found (--train, else --data) and save it"
    ),
    as_json: bool = typer.Option(False, "--json", help="print the report as JSON"),
) -> None:
    """Macro-F1 of the offline (zero-shot) and trained sentiment engines, next to published anchors."""
    from evals.sentiment import ANCHORS, run_sentiment_eval

    use_embeddings = _embeddings_wanted(embeddings)
    report = run_sentiment_eval(data, train, seed=seed, embeddings=use_embeddings)
    saved = _save_engine(train or data, save_model, use_embeddings) if save_model else None
    if as_json:
        typer.echo(json.dumps(report.model_dump(mode="json"), indent=2))
        return
    console.print(f"Found under {data}: {', '.join(f for t in report.tasks for f in t.files)}")
    if report.train:
        console.print(f"Training files under {report.train}: {', '.join(report.train_files) or 'none'}")
    for task in report.tasks:
        table = Table(title=f"Jira {task.task} ({', '.join(task.files)})")
        for col in ("system", "setting"):
            add_column(table, col)
        for col in ("macro-F1", "accuracy", "n"):
            add_column(table, col, ident=True, justify="right")
        z = task.zero_shot
        table.add_row("sprintpilot lexicon", "zero-shot", f"{z.macro_f1:.3f}", f"{z.accuracy:.3f}", str(z.n))
        if task.zero_shot_without_dev:
            z = task.zero_shot_without_dev
            setting = "zero-shot, dev rows excluded"
            table.add_row("sprintpilot lexicon", setting, f"{z.macro_f1:.3f}", f"{z.accuracy:.3f}", str(z.n))
        for v in task.variants:
            mark = " (reported)" if v.engine == task.trained_engine else ""
            s = v.score
            table.add_row(
                f"sprintpilot {v.engine}{mark}",
                task.trained_protocol,
                f"{s.macro_f1:.3f}",
                f"{s.accuracy:.3f}",
                str(s.n),
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
    if saved:
        console.print(saved)


def _save_engine(folder: Path, path: Path, embeddings: bool) -> str:
    """Fit the reported variants on every row under `folder` and save them for retro and health."""
    from evals.sentiment import FALLBACK, SELECTED, load_task, make_model
    from tools.sentiment.engine import MODEL_ENV, TrainedEngine
    from tools.sentiment.trained import TrainedSentiment

    models: dict[str, TrainedSentiment] = {}
    for task in ("polarity", "deva"):
        rows, _ = load_task(folder, task)
        if rows:
            model = make_model(task, SELECTED[task] if embeddings else FALLBACK)
            models[task] = model.fit([t for _, t, _ in rows], [y for _, _, y in rows])
    if "polarity" not in models:
        raise typer.BadParameter(f"--save-model needs jira_polarity_*.csv files under {folder}")
    engine = TrainedEngine(models["polarity"], models.get("deva"))
    engine.save(path)
    return f"Saved sentiment engine {engine.name} to {path}; retro and health use it with {MODEL_ENV}={path}"
