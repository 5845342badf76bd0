"""Forecast numbers for a backlog: velocity percentiles, scope done-dates, by-date, capacity per person.

Reads are the planner's (backlog + past sprint projects + users, one call per 100 tasks); all the
numbers come from tools.forecast. The scope's done-dates and the by-date answer come from the
method a walk-forward backtest on this team's own sprints found most accurate: points (velocity
Monte Carlo) or throughput (item-count Monte Carlo), unless the caller forces one. Next-sprint
velocity, the fan bands and capacity stay in points (capacity is split by demonstrated points).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict

from agents.planner.inputs import PlanningInputs, next_sprint_window
from tools.forecast.backtest import Backtest, Method, force, walk_forward
from tools.forecast.capacity import CapacityReport, capacity_report
from tools.forecast.montecarlo import (
    DoneDistribution,
    VelocityForecast,
    completion_probability,
    fan,
    how_much_by,
    velocity_forecast,
    when_done,
)
from tools.forecast.throughput import (
    DONE_PERCENTILES,
    items_by,
    items_completion_probability,
    items_when_done,
    throughput_forecast,
)
from tools.planning.models import BacklogItem

ACTIVE_SECTIONS = ("ready", "in progress", "ready for review")
FAN_SPRINTS = 6
MethodArg = Method | Literal["auto"]


class ScopeSelection(BaseModel):
    label: str
    items: int
    points: float
    unestimated: int
    imputed_points: float  # points assumed for the unestimated items (median of the estimated ones)


class ForecastResult(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    history: list[float | None]
    history_names: list[str]
    next_sprint: VelocityForecast
    start: date
    sprint_days: int
    scope: ScopeSelection
    done: DoneDistribution  # by the chosen method (its `unit` says points or items)
    by: date | None
    by_forecast: VelocityForecast | None  # by the chosen method
    by_probability: float | None  # P(the scope is done by `by`), by the chosen method
    capacity: CapacityReport
    bands: dict[int, list[float]]  # cumulative points (the console's velocity fan)
    item_history: list[float | None] = []
    next_sprint_items: VelocityForecast | None = None
    method: Backtest | None = None  # which method produced `done`/`by_*`, and the backtest behind it
    done_by_method: dict[str, DoneDistribution] = {}  # both methods' answers, for comparison
    item_bands: dict[int, list[float]] = {}  # cumulative items

    @property
    def chosen(self) -> Method:
        return self.method.chosen if self.method else "points"


def _section_names(inputs: PlanningInputs, gid: str) -> set[str]:
    task = inputs.tasks.get(gid)
    if task is None:
        return set()
    return {(m.section.name or "").strip().lower() for m in task.memberships if m.section and m.section.name}


def select_scope(inputs: PlanningInputs, scope: str | None) -> tuple[str, list[BacklogItem]]:
    """`None`/"all" = every open item; "section:X", "tag:X", "epic:X" (parent task), or a bare name
    matched against sections, then tags."""
    open_items = [it for it in inputs.items if not it.is_done]
    if not scope or scope.strip().lower() in ("all", "backlog", "*"):
        return "the whole backlog", open_items
    kind, _, value = scope.partition(":")
    if not value:
        kind, value = "", scope
    want = value.strip().lower()
    kind = kind.strip().lower()

    def in_section(it: BacklogItem) -> bool:
        return want in _section_names(inputs, it.gid)

    def has_tag(it: BacklogItem) -> bool:
        return want in it.tags

    def in_epic(it: BacklogItem) -> bool:
        t = inputs.tasks.get(it.gid)
        return bool(t and t.parent and (t.parent.name or "").strip().lower() == want)

    tests = {"section": in_section, "tag": has_tag, "epic": in_epic}
    if kind in tests:
        matches = tests[kind]
        if not any(matches(it) for it in inputs.items):
            # A name that nothing carries is a typo, not a finished scope ("likely done" was said).
            raise ValueError(f"no backlog item, open or done, is in the {kind} {value.strip()!r}")
        return f"{kind} {value.strip()}", [it for it in open_items if matches(it)]
    if kind:
        raise ValueError(f"unknown scope kind {kind!r}: use section:, tag:, epic: or all")
    by_section = [it for it in open_items if in_section(it)]
    if by_section:
        return f"section {value.strip()}", by_section
    by_tag = [it for it in open_items if has_tag(it)]
    if by_tag:
        return f"tag {value.strip()}", by_tag
    raise ValueError(f"no open backlog item is in a section or has a tag named {value.strip()!r}")


def scope_points(label: str, items: list[BacklogItem]) -> ScopeSelection:
    estimated = [it.points for it in items if it.points is not None]
    missing = len(items) - len(estimated)
    # Unestimated items still take time; assume the typical size rather than zero.
    fill = statistics.median(estimated) if estimated else 0.0
    return ScopeSelection(
        label=label,
        items=len(items),
        points=round(sum(estimated) + fill * missing, 1),
        unestimated=missing,
        imputed_points=round(fill * missing, 1),
    )


def upcoming_workload(inputs: PlanningInputs) -> tuple[dict[str, float], float, dict[str, int]]:
    """Assigned points per person over the open items in Ready / In Progress / Ready for Review."""
    assigned: dict[str, float] = defaultdict(float)
    unestimated: dict[str, int] = defaultdict(int)
    unassigned = 0.0
    for it in inputs.items:
        if it.is_done or not (_section_names(inputs, it.gid) & set(ACTIVE_SECTIONS)):
            continue
        if it.assignee_gid:
            assigned[it.assignee_gid] += it.points or 0.0
            if it.points is None:
                unestimated[it.assignee_gid] += 1
        else:
            unassigned += it.points or 0.0
    return dict(assigned), unassigned, dict(unestimated)


def compute_forecast(
    inputs: PlanningInputs,
    *,
    scope: str | None,
    by: date | None,
    today: date,
    availability: dict[str, float] | None = None,
    seed: int = 0,
    method: MethodArg = "auto",
) -> ForecastResult:
    history: list[float | None] = [s.record.completed_points for s in inputs.history]
    items_hist: list[float | None] = [float(s.record.completed_items) for s in inputs.history]
    start, end = next_sprint_window(inputs.sprints, today)
    sprint_days = (end - start).days + 1
    nxt = velocity_forecast(history, 1, seed=seed)
    nxt_items = throughput_forecast(items_hist, 1, seed=seed)
    label, items = select_scope(inputs, scope)
    sel = scope_points(label, items)
    backtest = walk_forward(history, items_hist, seed=seed)
    if method != "auto":
        backtest = force(backtest, method)
    done_by = {
        "points": when_done(history, sel.points, start, sprint_days, seed=seed, percentiles=DONE_PERCENTILES),
        # Throughput needs no estimates: the scope is its item count, unestimated items included.
        "throughput": items_when_done(items_hist, sel.items, start, sprint_days, seed=seed),
    }
    by_fc: VelocityForecast | None = None
    by_prob = None
    if by is not None:
        if backtest.chosen == "throughput":
            by_fc = items_by(items_hist, start, by, sprint_days, seed=seed)
            by_prob = (
                items_completion_probability(items_hist, sel.items, by_fc.sprints, seed=seed)
                if by_fc
                else 0.0
            )
        else:
            by_fc = how_much_by(history, start, by, sprint_days, seed=seed)
            by_prob = completion_probability(history, sel.points, by_fc.sprints, seed=seed) if by_fc else 0.0
    assigned, unassigned, unest = upcoming_workload(inputs)
    names = {p.gid: p.name for p in inputs.people}
    cap = capacity_report(
        nxt.p(50),
        assigned,
        {p.gid: p.past_points for p in inputs.people},
        names,
        availability=availability,
        unassigned_points=unassigned,
        unestimated=unest,
    )
    return ForecastResult(
        history=history,
        history_names=[s.record.name for s in inputs.history],
        next_sprint=nxt,
        start=start,
        sprint_days=sprint_days,
        scope=sel,
        done=done_by[backtest.chosen],
        by=by,
        by_forecast=by_fc,
        by_probability=by_prob,
        capacity=cap,
        bands=fan(history, FAN_SPRINTS, seed=seed) if any(h for h in history) else {},
        item_history=items_hist,
        next_sprint_items=nxt_items,
        method=backtest,
        done_by_method=done_by,
        item_bands=fan(items_hist, FAN_SPRINTS, seed=seed) if any(h for h in items_hist) else {},
    )
