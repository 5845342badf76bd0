"""Asana Goals in the sandbox: direct insertion, and the progress Asana computes for a metric.

Shapes follow asana_oas.yaml (GoalResponse, GoalMetricBase, GoalRelationshipBase). A goal is
supported by projects, portfolios and tasks (`supporting_work`) or by other goals (`subgoal`),
each with a `contribution_weight` between 0 and 1. A metric whose `progress_source` is automatic
gets its `current_number_value` from what supports the goal, as Asana computes it: the share of
completed tasks of the supporting projects (`project_task_completion`), of completed milestones
(`project_milestone_completion`), of completed supporting tasks (`task_completion`) or the
subgoals' progress (`subgoal_progress`); weighted by `contribution_weight` when the metric's
`is_custom_weight` is true, else equally. Automatic metrics are percentages (0..1, shown as %).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sandbox.records import Goal, GoalRelationship, Portfolio, Project, Task
from sandbox.store import Store, day, iso

PROGRESS_SOURCES = (
    "manual",
    "subgoal_progress",
    "project_task_completion",
    "project_milestone_completion",
    "task_completion",
    "external",
)
AUTOMATIC_SOURCES = frozenset(
    {"subgoal_progress", "project_task_completion", "project_milestone_completion", "task_completion"}
)
METRIC_UNITS = ("none", "currency", "percentage")
GOAL_PRIVACY = ("public_to_workspace", "members_only")
OPEN_STATUSES = ("green", "yellow", "red")
CLOSED_STATUSES = ("missed", "achieved", "partial", "dropped")
_MAX_DEPTH = 5  # subgoal chains deeper than this count as no progress (and cycles are refused)


def goals(store: Store) -> dict[str, Goal]:
    return store.tables["goal"]  # type: ignore[return-value]


def relationships(store: Store) -> dict[str, GoalRelationship]:
    return store.tables["goal_relationship"]  # type: ignore[return-value]


def supporting(store: Store, goal_gid: str) -> list[GoalRelationship]:
    """The goal's relationships in the order they were made."""
    return [r for r in relationships(store).values() if r.supported_goal == goal_gid]


def supported_by(store: Store, resource_gid: str) -> list[Goal]:
    """Goals that `resource_gid` (a project, portfolio, task or goal) supports."""
    table = goals(store)
    gids = [r.supported_goal for r in relationships(store).values() if r.supporting_resource == resource_gid]
    return [table[g] for g in dict.fromkeys(gids) if g in table]


def new_metric(data: dict[str, Any], old: dict[str, Any] | None = None) -> dict[str, Any]:
    """The stored metric for a (validated) setMetric body; it replaces any metric there was."""
    source = str(data.get("progress_source") or "manual")
    automatic = source in AUTOMATIC_SOURCES
    unit = "percentage" if automatic else str(data.get("unit") or "none")
    initial = 0.0 if automatic else float(data.get("initial_number_value") or 0.0)
    target = 1.0 if automatic else float(data["target_number_value"])
    current = data.get("current_number_value")
    return {
        "resource_subtype": "number",
        "precision": int(data.get("precision", 0 if automatic else 2)),
        "unit": unit,
        "currency_code": str(data.get("currency_code") or "USD") if unit == "currency" else None,
        "initial_number_value": initial,
        "target_number_value": target,
        "current_number_value": float(current) if current is not None and not automatic else initial,
        "progress_source": source,
        "is_custom_weight": bool(data.get("is_custom_weight", False)),
    }


def add_goal(
    store: Store,
    workspace_gid: str,
    name: str,
    *,
    team: str | None = None,
    owner: str | None = None,
    notes: str = "",
    due_on: date | str | None = None,
    start_on: date | str | None = None,
    followers: Iterable[str] = (),
    privacy_setting: str = "public_to_workspace",
    metric: dict[str, Any] | None = None,
    status: str | None = None,
    time_period: str | None = None,
    created_at: datetime | str | None = None,
    gid: str | None = None,
) -> Goal:
    """Insert a goal (no events). `metric` is a setMetric body (e.g. `{"progress_source":
    "project_task_completion"}` or `{"target_number_value": 100, "unit": "none"}`)."""
    if store.get_typed(workspace_gid, "workspace") is None:
        raise KeyError(f"no workspace with gid {workspace_gid}")
    if privacy_setting not in GOAL_PRIVACY:
        raise ValueError(f"privacy_setting must be one of {GOAL_PRIVACY}")
    members = list(dict.fromkeys([*([owner] if owner else []), *followers]))
    return store._put(
        Goal(
            gid=gid or store.new_gid(),
            name=name,
            workspace=workspace_gid,
            team=team,
            owner=owner,
            notes=notes,
            due_on=day(due_on),
            start_on=day(start_on),
            is_workspace_level=team is None,
            time_period=time_period,
            status=status,
            privacy_setting=privacy_setting,
            followers=members,
            metric=new_metric(metric) if metric is not None else None,
            created_at=iso(created_at) or store.now(),
        )
    )


def add_supporting(
    store: Store, goal_gid: str, resource_gid: str, *, contribution_weight: float = 0.0
) -> GoalRelationship:
    """Make `resource_gid` support the goal (an existing relationship is returned unchanged)."""
    goal: Goal | None = store.get_typed(goal_gid, "goal")
    resource = store.get(resource_gid)
    if goal is None or not isinstance(resource, Goal | Project | Portfolio | Task):
        raise KeyError(f"no goal {goal_gid} or supporting resource {resource_gid}")
    existing = next((r for r in supporting(store, goal_gid) if r.supporting_resource == resource_gid), None)
    if existing is not None:
        return existing
    return store._put(
        GoalRelationship(
            gid=store.new_gid(),
            workspace=goal.workspace,
            supported_goal=goal_gid,
            supporting_resource=resource_gid,
            resource_subtype="subgoal" if isinstance(resource, Goal) else "supporting_work",
            contribution_weight=float(contribution_weight),
        )
    )


def would_cycle(store: Store, goal_gid: str, subgoal_gid: str) -> bool:
    """Whether making `subgoal_gid` a subgoal of `goal_gid` closes a loop (or is the goal itself)."""
    frontier, seen = [goal_gid], set()
    while frontier:
        current = frontier.pop()
        if current == subgoal_gid:
            return True
        if current in seen:
            continue
        seen.add(current)
        frontier += [g.gid for g in supported_by(store, current)]
    return False


def current_value(store: Store, goal: Goal) -> float | None:
    """The metric's current value: stored for manual/external metrics, computed for automatic ones."""
    return _current(store, goal, 0)


def _current(store: Store, goal: Goal, depth: int) -> float | None:
    metric = goal.metric
    if metric is None:
        return None
    if metric["progress_source"] not in AUTOMATIC_SOURCES:
        return float(metric["current_number_value"])
    parts: list[tuple[float, float]] = []
    for rel in supporting(store, goal.gid):
        share = _share(store, metric["progress_source"], rel, depth)
        if share is not None:
            parts.append((share, rel.contribution_weight if metric["is_custom_weight"] else 1.0))
    total = sum(w for _, w in parts)
    return round(sum(s * w for s, w in parts) / total, 4) if total else 0.0


def _share(store: Store, source: str, rel: GoalRelationship, depth: int) -> float | None:
    resource = store.get(rel.supporting_resource)
    if source == "subgoal_progress":
        if not isinstance(resource, Goal) or depth >= _MAX_DEPTH:
            return None
        return progress(store, resource, depth + 1)
    if source == "task_completion":
        return (1.0 if resource.completed else 0.0) if isinstance(resource, Task) else None
    if not isinstance(resource, Project):
        return None
    tasks = [store.tasks[g] for g in store.project_tasks(resource.gid) if g in store.tasks]
    if source == "project_milestone_completion":
        tasks = [t for t in tasks if t.resource_subtype == "milestone"]
    return sum(t.completed for t in tasks) / len(tasks) if tasks else 0.0


def progress(store: Store, goal: Goal, depth: int = 0) -> float | None:
    """The goal's progress 0..1 from its metric (None without one)."""
    metric = goal.metric
    current = _current(store, goal, depth)
    if metric is None or current is None:
        return None
    initial, target = float(metric["initial_number_value"]), float(metric["target_number_value"])
    return max(0.0, min(1.0, (current - initial) / (target - initial)))
