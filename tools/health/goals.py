"""Asana goals that projects support, and how far along each is: for the health report, the
sprint review and the planner's `goal` argument.

Progress is where a goal's metric stands between its initial and target value. For a metric that
Asana computes from project task completion it is recomputed here from the supporting projects'
task counts (weighted by `contribution_weight` when the metric says so), so the report says what
the number is made of ("12 of 30 tasks done"). Reads go through whatever reader the run holds: a
person's run sees only the goals and projects that person can see (graphs/visibility.py).
Goals are a premium feature: on a free plan the report says so and lists none.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import Any, Protocol

from pydantic import BaseModel, Field

from tools.asana.errors import AmbiguousName, Forbidden, NotFound, PaymentRequired
from tools.asana.models import Goal, GoalRelationship, TaskCounts
from tools.names import did_you_mean

TASK_COMPLETION = "project_task_completion"


class GoalReader(Protocol):
    def goals(self, workspace_gid: str) -> list[Goal]: ...

    def goals_supported_by(self, resource_gid: str, resource_type: str = "project") -> list[Goal]: ...

    def goal(self, gid: str) -> Goal: ...

    def goal_relationships(self, goal_gid: str) -> list[GoalRelationship]: ...

    def task_counts(self, project_gid: str) -> TaskCounts: ...


class GoalProgress(BaseModel):
    gid: str
    name: str
    progress: float | None = None  # 0..1; None: the goal has no metric
    source: str = "none"  # the metric's progress_source
    detail: str = ""  # what the number is made of, in words
    status: str | None = None  # green/yellow/red, or achieved/partial/missed/dropped
    due_on: date | None = None
    supported_by: list[str] = Field(default_factory=list)  # names of what supports it

    def line(self) -> str:
        share = "no metric yet" if self.progress is None else f"{self.progress:.0%}"
        parts = [self.detail] if self.detail else []
        if self.status:
            parts.append(f"status {self.status}")
        if self.due_on:
            parts.append(f"due {self.due_on.isoformat()}")
        if self.supported_by:
            parts.append("supported by " + ", ".join(self.supported_by))
        return f"- {self.name}: {share}" + (f" ({'; '.join(parts)})" if parts else "")


class GoalReport(BaseModel):
    goals: list[GoalProgress] = Field(default_factory=list)
    # Why no goal could be read at all (e.g. a free Asana plan); None when they were read.
    unavailable: str | None = None

    def markdown(self, heading: str = "**Goals** (Asana goals these projects support)") -> list[str]:
        """Lines for a status update or document; empty when there is nothing to say."""
        if not self.goals:
            return []
        return [heading, *(g.line() for g in self.goals)]

    def evidence(self) -> dict[str, Any]:
        return {"goals": [g.model_dump(mode="json") for g in self.goals], "unavailable": self.unavailable}


def goal_progress(
    asana: GoalReader, project_gids: Iterable[str], *, portfolio_gids: Iterable[str] = ()
) -> GoalReport:
    """Progress of every goal the given projects (and portfolios) support, by name."""
    resources = [(g, "project") for g in project_gids] + [(g, "portfolio") for g in portfolio_gids]
    found: dict[str, Goal] = {}
    try:
        for gid, kind in dict.fromkeys(resources):
            for goal in asana.goals_supported_by(gid, kind):
                found.setdefault(goal.gid, goal)
        rows = [_progress(asana, asana.goal(gid)) for gid in found]
    except PaymentRequired:
        return GoalReport(unavailable="goals need a paid Asana plan")
    return GoalReport(goals=sorted(rows, key=lambda r: (r.name.casefold(), r.gid)))


def _progress(asana: GoalReader, goal: Goal) -> GoalProgress:
    rels = asana.goal_relationships(goal.gid)
    names = [r.supporting_resource.name or r.supporting_resource.gid for r in rels if r.supporting_resource]
    row = GoalProgress(
        gid=goal.gid,
        name=goal.name or goal.gid,
        status=goal.status,
        due_on=goal.due_on,
        supported_by=names,
    )
    metric = goal.metric
    if metric is None:
        return row
    row.source = metric.progress_source or "manual"
    if row.source == TASK_COMPLETION:
        row.progress, row.detail = _task_completion(asana, rels, bool(metric.is_custom_weight))
        return row
    row.progress = metric.progress
    now, target = (
        _value(metric.current_number_value, metric.unit),
        _value(metric.target_number_value, metric.unit),
    )
    row.detail = f"{now} of {target}"
    if metric.initial_number_value:
        row.detail += f" from {_value(metric.initial_number_value, metric.unit)}"
    row.detail += f", {row.source.replace('_', ' ')}"
    return row


def _task_completion(
    asana: GoalReader, rels: list[GoalRelationship], custom_weight: bool
) -> tuple[float | None, str]:
    done = total = 0
    weighted: list[tuple[float, float]] = []
    hidden = 0
    for rel in rels:
        ref = rel.supporting_resource
        if ref is None or (ref.resource_type or "project") != "project":
            continue
        try:
            counts = asana.task_counts(ref.gid)
        except (NotFound, Forbidden):
            hidden += 1  # a supporting project the reader cannot see counts as unknown
            continue
        n, k = counts.num_tasks or 0, counts.num_completed_tasks or 0
        done, total = done + k, total + n
        weighted.append((k / n if n else 0.0, (rel.contribution_weight or 0.0) if custom_weight else 1.0))
    weight = sum(w for _, w in weighted)
    share = round(sum(s * w for s, w in weighted) / weight, 4) if weight else None
    detail = f"{done} of {total} tasks done in {len(weighted)} supporting project(s), project task completion"
    if hidden:
        detail += f"; {hidden} supporting project(s) not visible"
    return share, detail


def _value(value: float | None, unit: str | None) -> str:
    if value is None:
        return "n/a"
    if unit == "percentage":
        return f"{value:.0%}"
    return f"{value:g}"


def find_goal(asana: GoalReader, workspace_gid: str, ref: str) -> Goal:
    """A goal by gid or name (exact, then case-insensitive) among those the reader can see;
    NotFound (with close names from those only) or AmbiguousName otherwise."""
    wanted = ref.strip()
    if wanted.isdigit():
        return asana.goal(wanted)
    candidates = asana.goals(workspace_gid)
    exact_then_folded: tuple[Callable[[Goal], bool], ...] = (
        lambda g: g.name == wanted,
        lambda g: (g.name or "").casefold() == wanted.casefold(),
    )
    for same in exact_then_folded:
        hits = [g for g in candidates if same(g)]
        if len(hits) == 1:
            return asana.goal(hits[0].gid)
        if len(hits) > 1:
            gids = ", ".join(g.gid for g in hits)
            raise AmbiguousName(0, f"{len(hits)} goals are named {wanted!r}: {gids}; use a gid")
    hint = did_you_mean(wanted, [g.name for g in candidates if g.name])
    raise NotFound(404, f"no goal named {wanted!r} in workspace {workspace_gid}{hint}", "GET", "/goals")
