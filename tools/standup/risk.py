"""At-risk tasks: due soon without progress, and open work that does not fit the days left.

Capacity rule (documented for reviewers): a person's pace is the larger of their own completed
points per elapsed working day and the team's per-person pace (so one slow start does not flag
everything); their open tasks are taken in 'next' order (started first, then due date, priority)
and those beyond pace × working days left are at risk. With no elapsed day the ideal pace
(committed points / sprint working days / people) stands in.
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


class AtRisk(BaseModel):
    task_gid: str
    reasons: list[str] = Field(default_factory=list)
    kinds: list[str] = Field(default_factory=list)  # due_soon | capacity | overdue


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
    if p.days_left > 0:
        people = {t.assignee_gid for t in open_tasks if t.assignee_gid}
        share = p.team_points_per_day / max(1, len({t.assignee_gid for t in tasks if t.assignee_gid}))
        for person in sorted(people):
            rate = max(p.per_person.get(person, 0.0), share)
            capacity = rate * p.days_left
            mine = sorted(
                (t for t in open_tasks if t.assignee_gid == person),
                key=lambda t: (not t.started, *next_order_key(t)),
            )
            total = sum(t.points or 0.0 for t in mine)
            used = 0.0
            for t in mine:
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
