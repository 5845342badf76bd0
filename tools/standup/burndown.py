"""Sprint burndown: remaining points per working day, the ideal line, scope changes, anomalies.

Scope of a day = points of the sprint's tasks that had joined by the end of that day (a task joins
when it was added to the project after the sprint's first day, else at the sprint start: work
added on the first day, e.g. by a plan approved that morning, is the sprint's commitment); tasks
completed before the sprint started are not scope. Remaining = scope − points completed by the end
of that day.

Status rule (documented; used for the Asana status update): with scope S now, k of n working days
elapsed before today and R remaining, the ideal remaining is S·(1 − k/n) and the gap is
(R − ideal)/S. gap ≤ 10 % → on_track; ≤ 25 % → at_risk; otherwise off_track. An empty sprint is
on_track. Today is not counted as elapsed: the stand-up opens the day (it is scheduled in the
morning), so measuring against the end of today would put every sprint a day behind, and a young
sprint "at risk" before its first tasks could finish. The per-person capacity rule counts days the
same way (tools/standup/capacity.py). The daily points (and the chart) are end-of-day values.
"""

from __future__ import annotations

from datetime import date, datetime, time

from pydantic import BaseModel, Field

from tools.standup.calendar import working_days
from tools.standup.models import TaskState

ON_TRACK_GAP = 0.10
AT_RISK_GAP = 0.25
SCOPE_CREEP = 0.10
FLAT_DAYS = 3
LATE_SURGE_SHARE = 0.5


class ScopeChange(BaseModel):
    day: date
    task_gid: str
    points: float
    kind: str  # added | removed | points


class BurndownPoint(BaseModel):
    day: date
    scope: float
    remaining: float
    ideal: float
    done: float


class Burndown(BaseModel):
    start: date
    end: date
    days: list[date]
    points: list[BurndownPoint]  # one per working day elapsed so far (end of day)
    initial_scope: float
    scope_now: float
    remaining_now: float
    ideal_now: float  # at the start of today (see the status rule)
    days_elapsed: int  # working days up to and including today (one point each)
    gap: float
    status_type: str
    anomalies: list[str] = Field(default_factory=list)
    scope_changes: list[ScopeChange] = Field(default_factory=list)
    unestimated: int = 0
    # The tasks of the scope at the sprint's start (its commitment); the others joined later.
    committed: list[str] = Field(default_factory=list)


def _end_of(day: date, like: datetime | None) -> datetime:
    tz = like.tzinfo if like is not None else None
    return datetime.combine(day, time.max, tzinfo=tz)


def status_from_gap(gap: float, scope: float) -> str:
    if scope <= 0:
        return "on_track"
    # The epsilon keeps an exact boundary (e.g. 0 points done after 1 of 10 days: gap 10 %) from
    # tipping over through float rounding.
    if gap <= ON_TRACK_GAP + 1e-9:
        return "on_track"
    if gap <= AT_RISK_GAP + 1e-9:
        return "at_risk"
    return "off_track"


def compute_burndown(
    tasks: list[TaskState],
    start: date,
    end: date,
    now: datetime,
    *,
    joined: dict[str, datetime] | None = None,
    extra_changes: list[ScopeChange] | None = None,
) -> Burndown:
    """`joined`: task gid → when it was added mid-sprint (known from stories)."""
    joined = dict(joined or {})
    days = working_days(start, end) or [start]
    start_dt = datetime.combine(start, time.min, tzinfo=now.tzinfo)
    first_day = _end_of(start, now)  # joined by then: committed at the start
    scope_tasks: list[tuple[TaskState, datetime]] = []
    changes: list[ScopeChange] = list(extra_changes or [])
    for t in tasks:
        if t.completed and t.completed_at is not None and t.completed_at < start_dt:
            continue  # finished before the sprint: not part of its scope
        when = joined.get(t.gid)
        if when is None and t.created_at is not None and t.created_at > first_day:
            when = t.created_at
        if when is not None and when > first_day:
            scope_tasks.append((t, when))
            changes.append(ScopeChange(day=when.date(), task_gid=t.gid, points=t.points or 0.0, kind="added"))
        else:
            scope_tasks.append((t, start_dt))
    today = now.date()
    elapsed = [d for d in days if d <= today]
    initial = sum(t.points or 0.0 for t, when in scope_tasks if when <= start_dt)
    n = len(days)
    rows: list[BurndownPoint] = []
    for i, day in enumerate(elapsed, start=1):
        cutoff = min(_end_of(day, now), now)
        scope = sum(t.points or 0.0 for t, when in scope_tasks if when <= cutoff)
        done = sum(
            t.points or 0.0
            for t, when in scope_tasks
            if when <= cutoff and t.completed and t.completed_at is not None and t.completed_at <= cutoff
        )
        rows.append(
            BurndownPoint(
                day=day, scope=scope, remaining=scope - done, ideal=initial * (1 - i / n), done=done
            )
        )
    scope_now = sum(t.points or 0.0 for t, _ in scope_tasks)
    done_now = sum(t.points or 0.0 for t, _ in scope_tasks if t.completed)
    remaining = scope_now - done_now
    k = len(elapsed)
    before_today = sum(1 for d in days if d < today)
    ideal_now = scope_now * (1 - before_today / n)
    gap = (remaining - ideal_now) / scope_now if scope_now > 0 else 0.0
    bd = Burndown(
        start=start,
        end=end,
        days=days,
        points=rows,
        initial_scope=initial,
        scope_now=scope_now,
        remaining_now=remaining,
        ideal_now=ideal_now,
        days_elapsed=k,
        gap=gap,
        status_type=status_from_gap(gap, scope_now),
        scope_changes=sorted(changes, key=lambda c: (c.day, c.task_gid)),
        unestimated=sum(1 for t, _ in scope_tasks if t.points is None),
        committed=[t.gid for t, when in scope_tasks if when <= start_dt],
    )
    bd.anomalies = anomalies(bd)
    return bd


def anomalies(bd: Burndown) -> list[str]:
    """Flat line, scope creep and late surge, each as one plain sentence."""
    notes: list[str] = []
    pts = bd.points
    if len(pts) > FLAT_DAYS and pts[-1].remaining > 0:
        window = pts[-(FLAT_DAYS + 1) :]
        if all(p.done == window[0].done for p in window):
            notes.append(f"Flat line: no points were completed in the last {FLAT_DAYS} working days.")
    if bd.initial_scope > 0:
        growth = bd.scope_now - bd.initial_scope
        if growth >= 1 and growth / bd.initial_scope > SCOPE_CREEP:
            notes.append(
                f"Scope creep: +{growth:g} points (+{growth / bd.initial_scope:.0%}) "
                "since the sprint started."
            )
    elif bd.scope_now > 0 and bd.scope_changes:
        notes.append(f"Scope creep: all {bd.scope_now:g} points were added after the sprint started.")
    total_done = pts[-1].done if pts else 0.0
    n = len(bd.days)
    if total_done > 0 and n >= 4 and bd.days_elapsed >= int(0.7 * n):
        tail = max(2, round(0.25 * bd.days_elapsed))
        if len(pts) > tail:
            late = total_done - pts[-tail - 1].done
            if late / total_done >= LATE_SURGE_SHARE:
                notes.append(
                    f"Late surge: {late / total_done:.0%} of the completed points landed in the last "
                    f"{tail} working days."
                )
    return notes
