"""At-risk tasks: due soon without progress, work not begun late in the sprint, unestimated work,
and not-yet-started work that does not fit the days left.

Rules (documented for reviewers; each flag carries its kind and a reason):
- overdue / due_soon: past its due date; due within `due_soon_days` working days and not started
  (or blocked/stale).
- not_started: still not started once at least half of the sprint's working days have passed.
  Work that ends in the sprint has to begin first; with half the time gone, untouched work is the
  first to spill over.
- unestimated: open without story points after the sprint's first day: nobody knows its size, so
  nobody can say it fits.
- capacity: a person's pace is the larger of their own completed points per elapsed working day
  and the team's per-person pace (so one slow start does not flag everything); the days left at
  that pace first go to their started tasks, then to the not-started ones in 'next' order (due
  date, priority, smaller first); not-started tasks beyond that are at risk. Started work is not
  flagged by this rule: it is already being worked on. With no elapsed day the ideal pace
  (committed points / sprint working days / people) stands in.

On 66 recorded Spring XD sprints (`sprintpilot eval replay`) these rules flag unfinished work with
better precision and recall than flagging the largest open tasks (see the README's evals table).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from pydantic import BaseModel, Field

from tools.standup.activity import next_order_key
from tools.standup.blockers import Blocker
from tools.standup.calendar import add_working_days
from tools.standup.models import TaskState

DEFAULT_DUE_SOON_DAYS = 2
NOT_STARTED_AFTER = 0.5  # share of the sprint's working days after which untouched work is at risk


class AtRisk(BaseModel):
    task_gid: str
    reasons: list[str] = Field(default_factory=list)
    # overdue | due_soon | not_started | unestimated | capacity
    kinds: list[str] = Field(default_factory=list)


class Pace(BaseModel):
    team_points_per_day: float
    per_person: dict[str, float]
    days_elapsed: int
    days_left: int


def _add(found: dict[str, AtRisk], gid: str, kind: str, reason: str) -> None:
    row = found.setdefault(gid, AtRisk(task_gid=gid))
    if kind not in row.kinds:
        row.kinds.append(kind)
        row.reasons.append(reason)


def pace(tasks: list[TaskState], sprint_days: list[date], today: date, committed_points: float) -> Pace:
    elapsed_days = [d for d in sprint_days if d < today]
    left = [d for d in sprint_days if d >= today]
    done_by_person: dict[str, float] = defaultdict(float)
    team_done = 0.0
    for t in tasks:
        if t.completed and t.completed_at is not None and t.completed_at.date() < today:
            pts = t.points or 0.0
            team_done += pts
            if t.assignee_gid:
                done_by_person[t.assignee_gid] += pts
    people = {t.assignee_gid for t in tasks if t.assignee_gid}
    n_people = max(1, len(people))
    if elapsed_days:
        team = team_done / len(elapsed_days)
        per = {p: done_by_person[p] / len(elapsed_days) for p in people}
    else:
        team = committed_points / max(1, len(sprint_days))
        per = {p: team / n_people for p in people}
    return Pace(team_points_per_day=team, per_person=per, days_elapsed=len(elapsed_days), days_left=len(left))


def find_at_risk(
    tasks: list[TaskState],
    blockers: list[Blocker],
    today: date,
    sprint_days: list[date],
    committed_points: float,
    *,
    due_soon_days: int = DEFAULT_DUE_SOON_DAYS,
    not_started_after: float = NOT_STARTED_AFTER,
) -> tuple[list[AtRisk], Pace]:
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
    p = pace(tasks, sprint_days, today, committed_points)
    total_days = p.days_elapsed + p.days_left
    if p.days_left > 0 and total_days and p.days_elapsed / total_days >= not_started_after:
        for t in open_tasks:
            if not t.started:
                _add(
                    found,
                    t.gid,
                    "not_started",
                    f"not started with {p.days_left} of {total_days} working day(s) left",
                )
    if p.days_elapsed > 0:
        for t in open_tasks:
            if not t.points:
                _add(found, t.gid, "unestimated", "no story points: its size is unknown")
    if p.days_left > 0:
        people = {t.assignee_gid for t in open_tasks if t.assignee_gid}
        share = p.team_points_per_day / max(1, len({t.assignee_gid for t in tasks if t.assignee_gid}))
        for person in sorted(people):
            rate = max(p.per_person.get(person, 0.0), share)
            capacity = rate * p.days_left
            mine = [t for t in open_tasks if t.assignee_gid == person]
            total = sum(t.points or 0.0 for t in mine)
            used = sum(t.points or 0.0 for t in mine if t.started)
            for t in sorted((t for t in mine if not t.started), key=next_order_key):
                used += t.points or 0.0
                if used > capacity + 1e-9:
                    _add(
                        found,
                        t.gid,
                        "capacity",
                        f"owner has {total:g} open points vs about {capacity:.1f} of capacity "
                        f"in {p.days_left} working day(s) left",
                    )
    order = {t.gid: i for i, t in enumerate(tasks)}
    return sorted(found.values(), key=lambda r: order.get(r.task_gid, 0)), p
