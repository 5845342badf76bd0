"""Sprint numbers for the retro: commitment, carry-over, scope change, cycle time, estimation
accuracy, timeline deviations and blockers. Pure functions over `RetroItem`s.

Definitions (also printed in the retro notes):
- committed: items in the sprint when it started (added on or before the start day, or with no
  recorded add time); added mid-sprint: items that entered later. Scope = both.
- completed: completed by the end of the end date; carry-over: in scope and not completed by then.
- cycle time: first move into an "In Progress"-like section/Status → completion (calendar days).
"""

from __future__ import annotations

import statistics
from datetime import UTC, date, datetime, time

from pydantic import BaseModel

from tools.retro.models import RetroItem, SprintWindow

IN_PROGRESS = frozenset({"in progress", "doing", "in development", "started"})
DONE_NAMES = frozenset({"done", "complete", "completed", "closed"})
BLOCKED = "blocked"


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def end_of(day: date) -> datetime:
    return datetime.combine(day, time.max, tzinfo=UTC)


def completed_in(item: RetroItem, window: SprintWindow) -> bool:
    """Finished inside the sprint window (an item closed in an earlier sprint does not count here)."""
    if not item.completed:
        return False
    if item.completed_at is None:
        return True
    done = _aware(item.completed_at)
    return datetime.combine(window.start_on, time.min, tzinfo=UTC) <= done <= end_of(window.end_on)


def added_mid_sprint(item: RetroItem, window: SprintWindow) -> bool:
    return item.added_at is not None and _aware(item.added_at).date() > window.start_on


class Commitment(BaseModel):
    committed_items: int
    committed_points: float
    added_items: int
    added_points: float
    scope_items: int
    scope_points: float
    completed_items: int
    completed_points: float
    carry_over_items: int
    carry_over_points: float
    completion_rate_points: float | None
    completed_gids: list[str]
    carry_over_gids: list[str]
    added_gids: list[str]
    unestimated_gids: list[str]


def commitment(items: list[RetroItem], window: SprintWindow) -> Commitment:
    def pts(group: list[RetroItem]) -> float:
        return float(sum(i.points or 0.0 for i in group))

    added = [i for i in items if added_mid_sprint(i, window)]
    committed = [i for i in items if not added_mid_sprint(i, window)]
    done = [i for i in items if completed_in(i, window)]
    carry = [i for i in items if not completed_in(i, window)]
    scope = pts(items)
    return Commitment(
        committed_items=len(committed),
        committed_points=pts(committed),
        added_items=len(added),
        added_points=pts(added),
        scope_items=len(items),
        scope_points=scope,
        completed_items=len(done),
        completed_points=pts(done),
        carry_over_items=len(carry),
        carry_over_points=pts(carry),
        completion_rate_points=round(pts(done) / scope, 4) if scope else None,
        completed_gids=[i.gid for i in done],
        carry_over_gids=[i.gid for i in carry],
        added_gids=[i.gid for i in added],
        unestimated_gids=[i.gid for i in items if i.points is None],
    )


def _days(a: datetime, b: datetime) -> float:
    return round((_aware(b) - _aware(a)).total_seconds() / 86400.0, 2)


def work_started(item: RetroItem) -> datetime | None:
    starts = [t.at for t in item.transitions if (t.new or "").strip().lower() in IN_PROGRESS]
    return min(starts, key=_aware) if starts else None


def work_finished(item: RetroItem) -> datetime | None:
    if item.completed_at is not None:
        return item.completed_at
    ends = [t.at for t in item.transitions if (t.new or "").strip().lower() in DONE_NAMES]
    return max(ends, key=_aware) if ends and item.completed else None


class CycleTime(BaseModel):
    gid: str
    name: str
    points: float | None
    started: datetime
    finished: datetime
    days: float


def cycle_times(items: list[RetroItem]) -> list[CycleTime]:
    out = []
    for i in items:
        s, f = work_started(i), work_finished(i)
        if s is not None and f is not None and _aware(f) >= _aware(s):
            out.append(
                CycleTime(gid=i.gid, name=i.name, points=i.points, started=s, finished=f, days=_days(s, f))
            )
    return out


class Miss(BaseModel):
    gid: str
    name: str
    points: float
    days: float
    expected_days: float
    ratio: float  # actual / expected; >1 took longer than its estimate suggests


class EstimationAccuracy(BaseModel):
    measured: int
    days_per_point: float | None
    rank_correlation: float | None  # Spearman between points and cycle time
    median_days_by_points: dict[str, float]
    worst_misses: list[Miss]


def _ranks(xs: list[float]) -> list[float]:
    order = sorted(range(len(xs)), key=lambda i: xs[i])
    ranks = [0.0] * len(xs)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and xs[order[j + 1]] == xs[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2.0
        i = j + 1
    return ranks


def spearman(xs: list[float], ys: list[float]) -> float | None:
    if len(xs) < 3 or len(set(xs)) < 2 or len(set(ys)) < 2:
        return None
    return round(statistics.correlation(_ranks(xs), _ranks(ys)), 3)


def estimation_accuracy(cycles: list[CycleTime], worst: int = 3) -> EstimationAccuracy:
    est = [c for c in cycles if c.points]
    if not est:
        return EstimationAccuracy(
            measured=0, days_per_point=None, rank_correlation=None, median_days_by_points={}, worst_misses=[]
        )
    dpp = statistics.median(c.days / float(c.points or 1) for c in est)
    by_pts: dict[float, list[float]] = {}
    for c in est:
        by_pts.setdefault(float(c.points or 0), []).append(c.days)
    misses = []
    for c in est:
        expected = max(dpp * float(c.points or 0), 0.1)
        misses.append(
            Miss(
                gid=c.gid,
                name=c.name,
                points=float(c.points or 0),
                days=c.days,
                expected_days=round(expected, 2),
                ratio=round(max(c.days, 0.1) / expected, 2),
            )
        )
    # Worst = furthest from 1 on a log scale, so 4× too slow and 4× too fast rank alike.
    misses.sort(key=lambda m: (-abs(_log(m.ratio)), m.name))
    return EstimationAccuracy(
        measured=len(est),
        days_per_point=round(dpp, 2),
        rank_correlation=spearman([float(c.points or 0) for c in est], [c.days for c in est]),
        median_days_by_points={f"{k:g}": round(statistics.median(v), 2) for k, v in sorted(by_pts.items())},
        worst_misses=[m for m in misses[:worst] if abs(_log(m.ratio)) > _log(1.5)],
    )


def _log(x: float) -> float:
    import math

    return math.log(max(x, 1e-6))


class Deviation(BaseModel):
    gid: str
    name: str
    kind: str  # "due_moved" | "late" | "overdue_open"
    days: int
    detail: str


def timeline_deviations(items: list[RetroItem], window: SprintWindow) -> list[Deviation]:
    out: list[Deviation] = []
    for i in items:
        moved = [c for c in i.due_changes if c.old is not None and c.new is not None and c.new != c.old]
        if moved:
            shift = sum((c.new - c.old).days for c in moved if c.new and c.old)
            out.append(
                Deviation(
                    gid=i.gid,
                    name=i.name,
                    kind="due_moved",
                    days=shift,
                    detail=f"due date moved {len(moved)}× ({shift:+d} days)",
                )
            )
        if i.due_on is not None and i.completed and i.completed_at is not None:
            late = (_aware(i.completed_at).date() - i.due_on).days
            if late > 0:
                out.append(
                    Deviation(
                        gid=i.gid,
                        name=i.name,
                        kind="late",
                        days=late,
                        detail=f"completed {late} day(s) after its due date",
                    )
                )
        elif i.due_on is not None and not completed_in(i, window) and i.due_on <= window.end_on:
            over = (window.end_on - i.due_on).days
            out.append(
                Deviation(
                    gid=i.gid,
                    name=i.name,
                    kind="overdue_open",
                    days=over,
                    detail=f"open at sprint end, due {i.due_on.isoformat()}",
                )
            )
    out.sort(key=lambda d: (-d.days, d.name))
    return out


class Blocker(BaseModel):
    gid: str
    name: str
    since: datetime
    until: datetime | None  # None: still blocked at the sprint end
    days: float
    reason: str | None = None


def blockers(items: list[RetroItem], window: SprintWindow) -> list[Blocker]:
    """Periods with Status (or section) = Blocked, each with its duration up to the sprint end."""
    out: list[Blocker] = []
    stop = end_of(window.end_on)
    for i in items:
        since: datetime | None = None
        for t in sorted(i.transitions, key=lambda t: _aware(t.at)):
            new_blocked = (t.new or "").strip().lower() == BLOCKED
            if new_blocked and since is None:
                since = t.at
            elif not new_blocked and since is not None and (t.old or "").strip().lower() == BLOCKED:
                out.append(
                    Blocker(
                        gid=i.gid,
                        name=i.name,
                        since=since,
                        until=t.at,
                        days=_days(since, t.at),
                        reason=_reason(i, since),
                    )
                )
                since = None
        if since is None and (i.status or "").lower() == BLOCKED and not i.transitions:
            since = datetime.combine(window.start_on, time.min, tzinfo=UTC)
        if since is not None:
            out.append(
                Blocker(
                    gid=i.gid,
                    name=i.name,
                    since=since,
                    until=None,
                    days=_days(since, min(stop, max(_aware(since), stop))),
                    reason=_reason(i, since),
                )
            )
    out.sort(key=lambda b: (-b.days, b.name))
    return out


def _reason(item: RetroItem, since: datetime) -> str | None:
    """The comment closest to the blocking moment that says what it is blocked by."""
    cands = [c for c in item.comments if "block" in c.text.lower() or "waiting" in c.text.lower()]
    if not cands:
        return None
    best = min(cands, key=lambda c: abs((_aware(c.at) - _aware(since)).total_seconds()))
    return best.text
