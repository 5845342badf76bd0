"""The delay-risk model's feature record for an Asana task (pure: no reads, no clock).

The dependency manager already reads every task of the projects it scans (and of past sprint
projects, for the team's pace) with the planning view: dates, assignee, tags, dependency links and
custom fields. This module maps such a task to `tools.delay_risk.features` names. Facts that live
only in a task's stories (comments, priority changes, reopenings, time in progress) are not read,
so those features stay missing (None → NaN, which the trees handle); so do the EMSE-only ones
(reporter reputation, fix/affect versions, LDA topics, sequence number).

`history_item`/`history_query` feed the same tasks to `tools.delay_risk.history.history_features`
(the team-history features) and `assignee_features` (the assignee's late share as of that day): a
training row sees only outcomes settled before its commitment day. The product takes the late share
from there and the assignee's open load from `AssigneeStats` (read now).

Every record is taken "as of" a day: today for an open task being scored, the day the task was
committed for a settled history task (see `commitment_day`), so `remaining_days` is the runway the
team had at that moment.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from tools.asana.field_names import PRIORITY
from tools.asana.models import Task
from tools.delay_risk.history import HistoryItem, Query

_EPOCH = date(1970, 1, 1)


def day_number(d: date | None) -> float | None:
    """Days since 1970 (the model's encoding of a date)."""
    return None if d is None else float((d - _EPOCH).days)


def task_type(task: Task) -> str | None:
    """First tag's name (teams tag bug/feature/chore), else Asana's own subtype."""
    first = next((t.name for t in task.tags if t.name), None)
    return first or task.resource_subtype


def late(task: Task, due_on: date) -> bool:
    """Finished after its due date, or still open past it (only asked of settled tasks)."""
    if not task.completed:
        return True
    return task.completed_at is not None and task.completed_at.date() > due_on


@dataclass(frozen=True)
class AssigneeStats:
    """Per-assignee facts over the tasks read: open load now, late share over settled tasks."""

    open_tasks: Mapping[str, int]
    settled: Mapping[str, int]
    late: Mapping[str, int]

    def workload(self, assignee: str | None) -> int | None:
        return None if assignee is None else self.open_tasks.get(assignee, 0)

    def late_share(self, assignee: str | None, exclude_late: bool | None = None) -> float | None:
        """Share of the assignee's settled tasks that finished late; `exclude_late` leaves one
        settled task (the one being described, with that outcome) out, so a training row never
        sees its own label."""
        if assignee is None:
            return None
        n, k = self.settled.get(assignee, 0), self.late.get(assignee, 0)
        if exclude_late is not None:
            n, k = n - 1, k - int(exclude_late)
        return None if n <= 0 else round(k / n, 4)


def assignee_stats(open_tasks: Iterable[Task], settled: Iterable[tuple[Task, bool]]) -> AssigneeStats:
    load = Counter(t.assignee.gid for t in open_tasks if t.assignee)
    n: Counter[str] = Counter()
    k: Counter[str] = Counter()
    for t, is_late in settled:
        if t.assignee:
            n[t.assignee.gid] += 1
            k[t.assignee.gid] += int(is_late)
    return AssigneeStats(dict(load), dict(n), dict(k))


def task_record(
    task: Task,
    *,
    due_on: date,
    as_of: date,
    component: str | None,
    stats: AssigneeStats,
    own_late: bool | None = None,
) -> dict[str, Any]:
    """The feature record of `task`, due `due_on` (its own or its sprint's), seen on `as_of`.

    The assignee's load and late share come from `stats` (`own_late`, a training row's outcome, is
    left out of the share); the product then replaces the share with the past-only one
    (`history.assignee_features`).
    """
    assignee = task.assignee.gid if task.assignee else None
    blocked_by = len(task.dependencies)
    blocks = len(task.dependents)
    return {
        "remaining_days": float((due_on - as_of).days),
        "opened_day": day_number(task.created_at.date()) if task.created_at else None,
        "due_day": day_number(due_on),
        "due_weekday": due_on.weekday(),
        "blocked_by": blocked_by,
        "blocks": blocks,
        "links": blocked_by + blocks,
        "assignee_workload": stats.workload(assignee),
        "assignee_late_share": stats.late_share(assignee, own_late),
        "priority": _priority(task),
        "type": task_type(task),
        "component": component,
    }


def commitment_day(task: Task, due_on: date, sprint_start: date | None) -> date:
    """When a settled task was committed to its due date: the sprint's start for sprint work
    (never before the task existed), else the day the task was created; the due date itself when
    neither is known (a zero runway, the most conservative reading)."""
    created = task.created_at.date() if task.created_at else None
    if sprint_start is not None:
        day = max(sprint_start, created) if created else sprint_start
    else:
        day = created or due_on
    return min(day, due_on)


def history_item(
    task: Task, *, due_on: date | None, component: str | None, is_late: bool | None
) -> HistoryItem:
    """`task` as team history: opened when created, its due date known from its commitment, its
    outcome known when it was completed or, if late, the day after its due date (`is_late` None:
    no outcome yet); how late, once completed."""
    created = task.created_at.date() if task.created_at else due_on
    opened = day_number(created)
    due = day_number(due_on)
    settled: float | None = None
    resolved: float | None = None
    if is_late is not None and due is not None:
        done = task.completed_at.date() if task.completed and task.completed_at else None
        resolved = _resolved_day(done, due, is_late)
        # A late task is known to be late the day after its due date, even when it was finished
        # later: then only its delay's length waits for the completion.
        settled = min(resolved, due + 1) if is_late else resolved
    first = opened if opened is not None else due
    return HistoryItem(
        opened_day=first if first is not None else 0.0,
        due_set_day=first if first is not None else 0.0,
        due_day=due if due is not None else float("nan"),
        component=component,
        type=task_type(task),
        priority=_priority(task),
        settled_day=settled,
        late=is_late,
        delay_days=_delay(resolved, due) if is_late else 0.0,
        assignee=task.assignee.gid if task.assignee else None,
        resolved_day=resolved,
    )


def _resolved_day(done: date | None, due: float, is_late: bool) -> float:
    """When a settled task's delay was known: its completion; still open past its due date, never
    yet (its delay is still growing); done with no completion date, the day after its due date."""
    known = day_number(done)
    if known is not None:
        return known
    return float("inf") if is_late else due + 1


def _delay(resolved: float | None, due: float | None) -> float:
    if resolved is None or due is None or resolved == float("inf"):
        return 0.0
    return max(0.0, resolved - due)


def history_query(task: Task, *, due_on: date, as_of: date, component: str | None) -> Query:
    return Query(
        as_of=float((as_of - _EPOCH).days),
        component=component,
        type=task_type(task),
        priority=_priority(task),
        due_day=day_number(due_on),
        assignee=task.assignee.gid if task.assignee else None,
    )


def _priority(task: Task) -> str | None:
    value = task.field(PRIORITY)
    return None if value is None or value == "" else str(value)
