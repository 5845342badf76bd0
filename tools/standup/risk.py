"""At-risk tasks: overdue, due soon without progress, unestimated, and work beyond what its owner's
remaining capacity covers.

Rules (documented for reviewers; each flag carries its kind and a reason):
- overdue / due_soon: past its due date; due within `due_soon_days` working days and not started
  (or blocked/stale).
- unestimated: open without story points after the sprint's first day: nobody knows its size, so
  nobody can say it fits.
- capacity: the owner's remaining work exceeds their remaining capacity (tools/standup/capacity.py:
  the plan's per-person capacity spread over the sprint's working days, work in flight credited,
  10 % tolerance). Their started tasks use the remaining capacity first, then the not-started ones
  in 'next' order (due date, priority, smaller first); not-started tasks beyond it are at risk.
  Started work is not flagged by this rule: it is already being worked on (stale or blocked work
  is flagged through its blockers).

What is not a reason: the sprint being young. A task the plan fitted within its owner's capacity
is not at risk on the sprint's first days just because it has not started (the former
"not started once half the sprint is gone" rule and the equal per-person share of the committed
points are gone for that reason: both flagged work the plan had fitted). Blockers are reported as
blockers (tools/standup/blockers.py) and count with the at-risk tasks for the headline status and
the nudges.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

from pydantic import BaseModel, Field

from tools.standup.activity import next_order_key
from tools.standup.blockers import Blocker
from tools.standup.calendar import add_working_days
from tools.standup.capacity import Workload, workloads
from tools.standup.models import TaskState

DEFAULT_DUE_SOON_DAYS = 2
KINDS = ("overdue", "due_soon", "unestimated", "capacity")


class AtRisk(BaseModel):
    task_gid: str
    reasons: list[str] = Field(default_factory=list)
    # overdue | due_soon | unestimated | capacity
    kinds: list[str] = Field(default_factory=list)


class Pace(BaseModel):
    """The plan's pace: points per working day per person (capacity / sprint days) and the team's sum."""

    team_points_per_day: float
    per_person: dict[str, float]
    days_elapsed: int
    days_left: int
    workloads: dict[str, Workload] = Field(default_factory=dict)


def _add(found: dict[str, AtRisk], gid: str, kind: str, reason: str) -> None:
    row = found.setdefault(gid, AtRisk(task_gid=gid))
    if kind not in row.kinds:
        row.kinds.append(kind)
        row.reasons.append(reason)


def pace(
    tasks: list[TaskState],
    sprint_days: list[date],
    today: date,
    capacity: Mapping[str, float],
    *,
    given: Iterable[str] = (),
) -> Pace:
    loads = workloads(tasks, capacity, sprint_days, today, given=given)
    n = max(1, len(sprint_days))
    per = {p: w.capacity / n for p, w in loads.items()}
    return Pace(
        team_points_per_day=sum(max(0.0, c) for c in capacity.values()) / n,
        per_person=per,
        days_elapsed=sum(1 for d in sprint_days if d < today),
        days_left=sum(1 for d in sprint_days if d >= today),
        workloads=loads,
    )


def find_at_risk(
    tasks: list[TaskState],
    blockers: list[Blocker],
    today: date,
    sprint_days: list[date],
    capacity: Mapping[str, float],
    *,
    due_soon_days: int = DEFAULT_DUE_SOON_DAYS,
    given: Iterable[str] = (),
) -> tuple[list[AtRisk], Pace]:
    """`capacity`: person gid → points for the sprint (see tools/standup/capacity.py); `given`:
    the people whose capacity came from the plan rather than their commitment at the start."""
    blocked = {b.task_gid for b in blockers}
    stale = {b.task_gid for b in blockers if "stale" in b.kinds}
    horizon = add_working_days(today, due_soon_days)
    found: dict[str, AtRisk] = {}
    open_tasks = [t for t in tasks if not t.completed]
    for t in open_tasks:
        if t.due_on is None:
            continue
        no_progress = not t.started or t.gid in stale or t.gid in blocked
        if t.due_on < today:
            _add(found, t.gid, "overdue", f"overdue since {t.due_on.isoformat()}")
        elif t.due_on <= horizon and no_progress:
            why = "not started" if not t.started else "blocked or stale"
            _add(found, t.gid, "due_soon", f"due {t.due_on.isoformat()} and {why}")
    p = pace(tasks, sprint_days, today, capacity, given=given)
    if p.days_elapsed > 0:
        for t in open_tasks:
            if not t.points:
                _add(found, t.gid, "unestimated", "no story points: its size is unknown")
    if p.days_left > 0:
        # Open tasks grouped by owner once, not rescanned for each person over capacity.
        open_by_person: dict[str, list[TaskState]] = {}
        for t in open_tasks:
            if t.assignee_gid:
                open_by_person.setdefault(t.assignee_gid, []).append(t)
        for person, w in sorted(p.workloads.items()):
            if w.fits:
                continue
            mine = open_by_person.get(person, [])
            used = max(0.0, w.started - w.in_flight)
            for t in sorted((t for t in mine if not t.started), key=next_order_key):
                used += t.points or 0.0
                if used > w.limit + 1e-9:
                    _add(
                        found,
                        t.gid,
                        "capacity",
                        f"owner has {w.remaining_work:g} points of work left vs about "
                        f"{w.remaining_capacity:.1f} of capacity in {p.days_left} working day(s) "
                        f"({w.capacity:g} for the sprint)",
                    )
    order = {t.gid: i for i, t in enumerate(tasks)}
    return sorted(found.values(), key=lambda r: order.get(r.task_gid, 0)), p
