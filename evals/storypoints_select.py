"""Compare story-point configurations without looking at any test split: rolling origins over history.

    sprintpilot eval storypoints --data DIR --select [--config …] [--projects …] [--json]

Each project's history is the issues before its test split (train + valid, in creation order). It is cut
at 40, 50, 60 and 70 % of its length; the estimator indexes the issues before the cut and estimates the
next 10 %. A fold scores MAE / MAE of the median of the indexed issues (the baseline the team would have
had then), so folds of differently scaled projects can be pooled. With four folds per project, a
comparison of configurations rests on about 4 x the issues of the single valid split, and the test split
stays untouched for the one final measurement (evals/storypoints.py).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from pydantic import BaseModel
from rich.console import Console
from rich.table import Table

from evals.datasets.storypoints import StoryPointProject, load_projects
from evals.storypoints import MEDIAN_TOLERANCE, available_configs, describe_found, found_projects, past_tasks
from tools.errors import NotFoundError
from tools.estimation import CONFIGS, PastTask, StoryPointEstimator
from tools.estimation.default import DEFAULT_CONFIG

ORIGINS = (0.4, 0.5, 0.6, 0.7)
WINDOW = 0.1
SOURCE_LABELS = {"deepse": "Deep-SE", "tawosi": "Tawosi", "all": "all"}
MIN_FOLD = 10  # a fold with fewer issues to estimate (or to index) is skipped: its ratio is noise


class FoldScore(BaseModel):
    project: str
    source: str
    origin: float
    n_indexed: int
    n_estimated: int
    median_mae: float
    ratio: dict[str, float]  # configuration -> MAE / median MAE


class SelectionSummary(BaseModel):
    config: str
    source: str  # "deepse", "tawosi" or "all"
    folds: int
    mean_ratio: float
    worse_than_tolerance: int  # folds more than MEDIAN_TOLERANCE worse than the median
    worst_ratio: float
    projects: int
    projects_better: int  # projects whose mean fold ratio is below 1


class SelectionReport(BaseModel):
    data_dir: str
    found: dict[str, list[str]]  # dataset -> projects found under data_dir
    default_config: str  # the configuration the product estimates with by default
    configs: list[str]
    origins: list[float]
    folds: list[FoldScore]
    summary: dict[str, SelectionSummary]  # per configuration, all projects
    by_source: list[SelectionSummary]  # per configuration and dataset
    seconds: float


def history(project: StoryPointProject) -> list[PastTask]:
    """The issues before the test split, oldest first (the loaders keep the files' creation order)."""
    return past_tasks(project, "train", "valid")


def project_folds(project: StoryPointProject, configs: Sequence[str]) -> list[FoldScore]:
    tasks = history(project)
    n = len(tasks)
    out: list[FoldScore] = []
    size = round(WINDOW * n)  # every fold of a project estimates the same number of issues
    for origin in ORIGINS:
        cut = round(origin * n)
        end = cut + size
        indexed, estimated = tasks[:cut], tasks[cut:end]
        if len(indexed) < MIN_FOLD or len(estimated) < MIN_FOLD:
            continue
        truth = np.array([t.points for t in estimated])
        median_mae = float(np.abs(np.median([t.points for t in indexed]) - truth).mean())
        ratio: dict[str, float] = {}
        for name in configs:
            est = StoryPointEstimator(CONFIGS[name]).fit(indexed)
            queries = [(t.title, t.description) for t in estimated]
            pred = np.array([e.points for e in est.estimate_many(queries)])
            mae = float(np.abs(pred - truth).mean())
            ratio[name] = mae / median_mae if median_mae > 0 else (1.0 if mae == 0 else float("inf"))
        out.append(
            FoldScore(
                project=project.name,
                source=project.source,
                origin=origin,
                n_indexed=len(indexed),
                n_estimated=len(estimated),
                median_mae=median_mae,
                ratio=ratio,
            )
        )
    return out


def summarise(folds: Sequence[FoldScore], config: str, source: str = "all") -> SelectionSummary:
    folds = [f for f in folds if source in ("all", f.source)]
    ratios = np.array([f.ratio[config] for f in folds]) if folds else np.zeros(0)
    per_project: dict[str, list[float]] = defaultdict(list)
    for f in folds:
        per_project[f.project].append(f.ratio[config])
    return SelectionSummary(
        config=config,
        source=source,
        folds=len(folds),
        mean_ratio=float(ratios.mean()) if ratios.size else float("nan"),
        worse_than_tolerance=int((ratios > 1 + MEDIAN_TOLERANCE).sum()),
        worst_ratio=float(ratios.max()) if ratios.size else float("nan"),
        projects=len(per_project),
        projects_better=sum(float(np.mean(v)) < 1 for v in per_project.values()),
    )


def run_selection(
    data_dir: Path | str,
    projects: Sequence[str] | None = None,
    configs: Sequence[str] = ("light", "best"),
    *,
    progress: Console | None = None,
) -> SelectionReport:
    configs = available_configs(configs)
    started = time.perf_counter()
    loaded = load_projects(data_dir, projects)
    if not loaded:
        raise NotFoundError(f"{data_dir}: no Deep-SE or Tawosi story-point projects found")
    folds: list[FoldScore] = []
    for n, project in enumerate(loaded, start=1):
        if progress is not None:
            progress.print(f"[dim]{n}/{len(loaded)} {project.name}[/dim]")
        folds += project_folds(project, configs)
    return SelectionReport(
        data_dir=str(data_dir),
        found=found_projects(loaded),
        default_config=DEFAULT_CONFIG,
        configs=list(configs),
        origins=list(ORIGINS),
        folds=folds,
        summary={c: summarise(folds, c) for c in configs},
        by_source=[
            summarise(folds, c, source) for source in sorted({f.source for f in folds}) for c in configs
        ],
        seconds=time.perf_counter() - started,
    )


def render_selection(report: SelectionReport, console: Console) -> None:
    console.print(f"{describe_found(report.found)} under {report.data_dir}")
    cuts = ", ".join(f"{o:.0%}" for o in report.origins)
    table = Table(
        title=f"Rolling-origin selection on history only (cuts at {cuts}; next {WINDOW:.0%} estimated)"
        " — MAE / median MAE, lower is better"
    )
    table.add_column("configuration")
    table.add_column("dataset")
    worse = f"folds > {MEDIAN_TOLERANCE:.0%} worse"
    for label in ("folds", "mean ratio", worse, "worst fold", "projects < 1"):
        table.add_column(label, justify="right")
    best = min(report.summary.values(), key=lambda s: s.mean_ratio, default=None)
    rows = (
        [*report.by_source, *report.summary.values()]
        if len(report.by_source) > len(report.summary)
        else [*report.summary.values()]
    )
    for s in rows:
        mark = "bold green" if best is not None and s.source == "all" and s.config == best.config else ""
        table.add_row(
            f"[{mark}]{s.config}[/{mark}]" if mark else s.config,
            SOURCE_LABELS.get(s.source, s.source),
            str(s.folds),
            f"{s.mean_ratio:.3f}",
            str(s.worse_than_tolerance),
            f"{s.worst_ratio:.3f}",
            f"{s.projects_better}/{s.projects}",
        )
    console.print(table)
    console.print(f"{len(report.folds)} folds in {report.seconds:.1f} s; no test split was read")
