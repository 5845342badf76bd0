"""Blockers: Blocked status, incomplete dependencies, stale work, comments that report being stuck."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

from pydantic import BaseModel, Field

from tools.standup.activity import is_stuck_comment
from tools.standup.calendar import working_days_between
from tools.standup.models import Change, ChangeKind, TaskState

DEFAULT_STALE_DAYS = 3


class Blocker(BaseModel):
    task_gid: str
    reasons: list[str] = Field(default_factory=list)
    kinds: list[str] = Field(default_factory=list)  # blocked_status | dependency | stale | stuck_comment

    def add(self, kind: str, reason: str) -> None:
        if kind not in self.kinds:
            self.kinds.append(kind)
        self.reasons.append(reason)


def last_change_days(changes: Iterable[Change]) -> dict[str, date]:
    """Task gid → the day of its latest change, in one pass (so no task rescans every change)."""
    latest: dict[str, date] = {}
    for c in changes:
        day = c.at.date()
        if c.task_gid not in latest or day > latest[c.task_gid]:
            latest[c.task_gid] = day
    return latest


def last_movement(task: TaskState, last_changes: Mapping[str, date]) -> date | None:
    """Latest day the task visibly moved: its own changes (`last_change_days`), and Asana's
    modified_at."""
    days = [d for d in (last_changes.get(task.gid),) if d is not None]
    if task.modified_at is not None:
        days.append(task.modified_at.date())
    return max(days) if days else None


def _idle(task: TaskState, last_changes: Mapping[str, date], today: date) -> int:
    """Working days a started task has not moved (0 for work not started or never seen moving)."""
    if not task.started:
        return 0
    moved = last_movement(task, last_changes)
    return working_days_between(moved, today) if moved else 0


def find_blockers(
    tasks: Iterable[TaskState],
    changes: list[Change],
    today: date,
    *,
    stale_days: int = DEFAULT_STALE_DAYS,
) -> list[Blocker]:
    """Open tasks with at least one blocker reason, in task order.

    Waiting on an unfinished dependency counts when the task has started, or when what it waits on
    is outside this sprint or blocked itself; a not-started task queued behind unblocked work of
    the same sprint is the order the plan chose, not a blocker."""
    stuck_comments: dict[str, list[Change]] = {}
    for c in changes:
        if c.kind == ChangeKind.COMMENT and is_stuck_comment(c.text):
            stuck_comments.setdefault(c.task_gid, []).append(c)
    tasks = list(tasks)
    in_sprint = {t.gid for t in tasks}
    # Linear in the changes: each task's last movement and idle days are computed once.
    last_changes = last_change_days(changes)
    idle_days = {t.gid: _idle(t, last_changes, today) for t in tasks if not t.completed}
    # Blocked on their own (not through a dependency): a task waiting on one of these is blocked too.
    stuck_on_their_own = {
        t.gid
        for t in tasks
        if not t.completed and (t.blocked_status or t.gid in stuck_comments or idle_days[t.gid] >= stale_days)
    }
    out: list[Blocker] = []
    for task in tasks:
        if task.completed:
            continue
        b = Blocker(task_gid=task.gid)
        if task.blocked_status:
            b.add("blocked_status", "Status is Blocked")
        open_deps = [g for g, done in task.dependencies.items() if done is False]
        if (
            open_deps
            and not task.started
            and all(g in in_sprint and g not in stuck_on_their_own for g in open_deps)
        ):
            # Queued behind work of the same sprint, as the plan ordered it: not blocked (yet).
            open_deps = []
        if open_deps:
            names = ", ".join(task.dependency_names.get(g, g) for g in open_deps[:3])
            more = f" and {len(open_deps) - 3} more" if len(open_deps) > 3 else ""
            b.add("dependency", f"waits on {len(open_deps)} unfinished task(s): {names}{more}")
        idle = idle_days[task.gid]
        if idle >= stale_days:
            b.add("stale", f"no movement for {idle} working days")
        for c in stuck_comments.get(task.gid, []):
            who = c.actor_name or "someone"
            b.add("stuck_comment", f"{who} reported being stuck ({c.at.date().isoformat()})")
        if b.reasons:
            out.append(b)
    return out
