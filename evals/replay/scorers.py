"""Pluggable replay scorers: each turns the sprint observations into metrics, tables and charts.

Register a scorer with `@register_scorer("name")` on a function
`(observations) -> ScoreSection`; the report writer renders any section the same way (metric
table, per-item table, charts). This issue ships `planner` and `triage`; later agents add theirs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal

from pydantic import BaseModel, Field

from evals.replay.observations import SprintObservation, TriageObservation
from tools.scorecard.metrics import bias, estimate_stats, mae, mdae, precision_recall

# The metrics live in tools/scorecard (the live scorecard computes with the same functions);
# re-exported here for the scorers and their callers.
__all__ = ["bias", "mae", "mdae", "precision_recall"]

Observations = Sequence[SprintObservation]
ScorerFn = Callable[[Observations], "ScoreSection"]
_SCORERS: dict[str, ScorerFn] = {}


class Chart(BaseModel):
    kind: Literal["lines", "histogram"]
    file: str
    title: str
    xlabel: str = ""
    ylabel: str = ""
    x: list[float | str] = Field(default_factory=list)
    series: dict[str, list[float | None]] = Field(default_factory=dict)


class Table(BaseModel):
    title: str
    columns: list[str]
    rows: list[list[Any]]


class ScoreSection(BaseModel):
    name: str
    title: str
    notes: list[str] = Field(default_factory=list)
    metrics: Table
    tables: list[Table] = Field(default_factory=list)
    charts: list[Chart] = Field(default_factory=list)
    summary: dict[str, float | int | None] = Field(default_factory=dict)


def register_scorer(name: str) -> Callable[[ScorerFn], ScorerFn]:
    def deco(fn: ScorerFn) -> ScorerFn:
        if name in _SCORERS:
            raise ValueError(f"scorer {name!r} is already registered")
        _SCORERS[name] = fn
        return fn

    return deco


def load_scorers() -> None:
    """Import every `evals/replay/scorer_*.py` module: each registers its agent's scorers."""
    import importlib
    import pkgutil

    import evals.replay as package

    for info in pkgutil.iter_modules(package.__path__):
        if info.name.startswith("scorer_"):
            importlib.import_module(f"{package.__name__}.{info.name}")


def scorer_names() -> list[str]:
    load_scorers()
    return list(_SCORERS)


def run_scorers(obs: Observations, names: Sequence[str] | None = None) -> list[ScoreSection]:
    chosen = list(names) if names is not None else scorer_names()
    unknown = [n for n in chosen if n not in _SCORERS]
    if unknown:
        raise KeyError(f"unknown scorer(s): {', '.join(unknown)}; known: {', '.join(scorer_names())}")
    return [_SCORERS[n](obs) for n in chosen]


# --- metrics -----------------------------------------------------------------------------------


def r(x: float | None, digits: int = 2) -> float | None:
    return None if x is None else round(x, digits)


# --- planner -----------------------------------------------------------------------------------


@register_scorer("planner")
def score_planner(obs: Observations) -> ScoreSection:
    """Predicted completed points (the plan's capacity) vs actual; items chosen vs completed."""
    scored = [
        o
        for o in obs
        if o.planner
        and o.planner.capacity is not None
        and o.history_sprints > 0
        and o.last_velocity is not None
    ]
    plan_err = [o.planner.capacity - o.actual_completed_points for o in scored]  # type: ignore[union-attr,operator]
    scope_err = [(o.planner.selected_points or 0) - o.actual_completed_points for o in scored]  # type: ignore[union-attr]
    base_err = [o.last_velocity - o.actual_completed_points for o in scored]  # type: ignore[operator]
    hits = chosen_n = truth_n = base_hits = base_n = 0
    per_sprint = []
    for o in scored:
        chosen, truth = set(o.planner.chosen), set(o.actual_completed_items)  # type: ignore[union-attr]
        p, rc, h = precision_recall(chosen, truth)
        bp, br, bh = precision_recall(set(o.priority_baseline_items), truth)
        hits, chosen_n, truth_n = hits + h, chosen_n + len(chosen), truth_n + len(truth)
        base_hits, base_n = base_hits + bh, base_n + len(o.priority_baseline_items)
        per_sprint.append(
            [
                o.name,
                o.start_on,
                r(o.planner.capacity, 1),  # type: ignore[union-attr]
                r(o.planner.selected_points, 1),  # type: ignore[union-attr]
                r(o.last_velocity, 1),
                r(o.actual_completed_points, 1),
                len(chosen),
                len(truth),
                r(p),
                r(rc),
            ]
        )
    precision = hits / chosen_n if chosen_n else None
    recall = hits / truth_n if truth_n else None
    b_precision = base_hits / base_n if base_n else None
    b_recall = base_hits / truth_n if truth_n else None
    metrics = Table(
        title="Predicted vs actual completed points, and items",
        columns=[
            "predictor",
            "sprints",
            "MAE (points)",
            "bias (points)",
            "MdAE",
            "item precision",
            "item recall",
        ],
        rows=[
            [
                "planner: predicted velocity (capacity)",
                len(scored),
                r(mae(plan_err)),
                r(bias(plan_err)),
                r(mdae(plan_err)),
                r(precision),
                r(recall),
            ],
            [
                "planner: selected scope points",
                len(scored),
                r(mae(scope_err)),
                r(bias(scope_err)),
                r(mdae(scope_err)),
                None,
                None,
            ],
            [
                "naive: last sprint's velocity (+ items by Jira priority)",
                len(scored),
                r(mae(base_err)),
                r(bias(base_err)),
                r(mdae(base_err)),
                r(b_precision),
                r(b_recall),
            ],
        ],
    )
    xs: list[float | str] = [o.sequence for o in scored]
    return ScoreSection(
        name="planner",
        title="Sprint planner",
        notes=[
            "Predicted completed points = the plan's capacity (median velocity of the last 6 past sprint "
            "projects the planner read); bias = mean(predicted − actual), positive = over-commitment.",
            "Items: the planner's chosen set vs the issues really completed in the sprint (micro-averaged); "
            "issues added mid-sprint count in the recall denominator but could not have been chosen.",
            f"Scored {len(scored)} of {len(obs)} sprints (a sprint needs at least one earlier sprint).",
        ],
        metrics=metrics,
        tables=[
            Table(
                title="Per sprint",
                columns=[
                    "sprint",
                    "start",
                    "predicted",
                    "selected",
                    "last velocity",
                    "actual",
                    "chosen",
                    "completed",
                    "precision",
                    "recall",
                ],
                rows=per_sprint,
            )
        ],
        charts=[
            Chart(
                kind="lines",
                file="planner_predicted_vs_actual.png",
                title="Completed points per sprint: predicted vs actual",
                xlabel="sprint",
                ylabel="story points",
                x=xs,
                series={
                    "actual": [o.actual_completed_points for o in scored],
                    "planner (capacity)": [o.planner.capacity for o in scored],  # type: ignore[union-attr]
                    "last velocity": [o.last_velocity for o in scored],
                },
            ),
            Chart(
                kind="histogram",
                file="planner_error_histogram.png",
                title="Prediction error (predicted − actual points)",
                xlabel="points",
                ylabel="sprints",
                series={"planner": list(plan_err), "last velocity": list(base_err)},
            ),
        ],
        summary={
            "sprints": len(scored),
            "planner_mae": r(mae(plan_err)),
            "planner_bias": r(bias(plan_err)),
            "baseline_mae": r(mae(base_err)),
            "baseline_bias": r(bias(base_err)),
            "item_precision": r(precision),
            "item_recall": r(recall),
            "baseline_item_precision": r(b_precision),
            "baseline_item_recall": r(b_recall),
        },
    )


# --- triage ------------------------------------------------------------------------------------


def triage_pairs(obs: Observations) -> list[tuple[SprintObservation, TriageObservation]]:
    """The triage rows the scorer (and the scorecard by replay) score, in order: an estimate, a
    final value and the history median to compare with."""
    return [
        (o, t)
        for o in obs
        for t in o.triage
        if t.actual is not None and t.estimate is not None and t.median_baseline is not None
    ]


@register_scorer("triage")
def score_triage(obs: Observations) -> ScoreSection:
    """Estimated vs final story points for tasks added mid-sprint, beside the history median."""
    rows = [t for o in obs for t in o.triage]
    scored = [t for _, t in triage_pairs(obs)]
    err = [t.estimate - t.actual for t in scored]  # type: ignore[operator]
    base = [t.median_baseline - t.actual for t in scored]  # type: ignore[operator]
    stats = estimate_stats((t.estimate, t.actual, t.low, t.high) for t in scored)  # type: ignore[misc]
    runs = sum(o.triage_runs for o in obs)
    errors = sum(len(o.triage_errors) for o in obs)
    written = sum(t.fields_written for t in rows)
    comments = sum(1 for t in rows if t.comment_posted)
    no_criteria = sum(1 for t in rows if t.criteria == 0)
    metrics = Table(
        title="Story points of tasks added mid-sprint: estimate vs final",
        columns=["predictor", "tasks", "MAE (points)", "bias", "MdAE", "actual within range"],
        rows=[
            ["triage estimate", stats.n, r(stats.mae), r(stats.bias), r(stats.mdae), r(stats.within_range)],
            ["median of completed history", len(scored), r(mae(base)), r(bias(base)), r(mdae(base)), None],
        ],
    )
    activity = Table(
        title="Triage activity",
        columns=[
            "runs",
            "run errors",
            "tasks refined",
            "AI fields written",
            "comments posted",
            "flagged: no criteria",
        ],
        rows=[[runs, errors, len(rows), written, comments, no_criteria]],
    )
    return ScoreSection(
        name="triage",
        title="Backlog refinement (triage)",
        notes=[
            "Triage runs on the day a task joins the sprint (the recording's task_added events), before its "
            "re-estimate; truth = the task's final story points. Tasks never estimated are not scored.",
        ],
        metrics=metrics,
        tables=[activity],
        charts=[
            Chart(
                kind="histogram",
                file="triage_error_histogram.png",
                title="Triage estimate error (estimate − final points)",
                xlabel="points",
                ylabel="tasks",
                series={"triage": list(err), "history median": list(base)},
            )
        ],
        summary={
            "tasks": len(scored),
            "triage_mae": r(stats.mae),
            "median_baseline_mae": r(mae(base)),
            "within_range": r(stats.within_range),
            "runs": runs,
            "run_errors": errors,
        },
    )
