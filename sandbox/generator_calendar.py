"""Calendar arithmetic for the synthetic history: sprint windows and working-time offsets.

All times are UTC and derived from the anchor date, never from the wall clock, so a seed always
produces the same timestamps.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

DEFAULT_ANCHOR = date(2026, 11, 23)  # a Monday: planning day of the next sprint
SPRINT_DAYS = 14
WORKDAYS_PER_SPRINT = 10
_DAY_START = time(9, 0)
_WORK_HOURS = 9.0


@dataclass(frozen=True)
class SprintWindow:
    index: int  # 0 = oldest past sprint
    number: int  # the "N" of "Sprint N"
    start: date  # Monday
    end: date  # Friday of the second week (project due_on)

    @property
    def name(self) -> str:
        return f"Sprint {self.number}"

    def at(self, workday_offset: float) -> datetime:
        """The instant `workday_offset` working days into the sprint (0 = Monday 09:00)."""
        return workday_time(self.start, workday_offset)


def sprint_windows(anchor: date, count: int, last_number: int = 23) -> list[SprintWindow]:
    """`count` consecutive two-week sprints, oldest first, the last ending just before `anchor`."""
    # Sprints start on Mondays; align to the Monday on or before the anchor.
    monday = anchor - timedelta(days=anchor.weekday())
    windows = []
    for i in range(count):
        start = monday - timedelta(days=SPRINT_DAYS * (count - i))
        windows.append(SprintWindow(i, last_number - count + 1 + i, start, start + timedelta(days=11)))
    return windows


def workday_time(monday: date, offset: float) -> datetime:
    """Map a fractional working-day offset from a Monday onto a weekday timestamp."""
    offset = max(0.0, offset)
    day = int(offset)
    frac = offset - day
    calendar_day = day + 2 * (day // 5)  # skip each weekend
    minutes = round(frac * _WORK_HOURS * 60)
    base = datetime.combine(monday + timedelta(days=calendar_day), _DAY_START, tzinfo=UTC)
    return base + timedelta(minutes=minutes)


def asana_time(moment: datetime) -> str:
    """Asana's timestamp format: ISO 8601 UTC with milliseconds and a Z suffix."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def workday_offset(moment: datetime) -> tuple[date, float]:
    """Inverse of `workday_time`: (Monday of that week, working-day offset); weekends snap forward."""
    moment = moment.astimezone(UTC)
    monday = moment.date() - timedelta(days=moment.weekday())
    if moment.weekday() >= 5:
        return monday + timedelta(days=7), 0.0
    hours = (moment - datetime.combine(moment.date(), _DAY_START, tzinfo=UTC)).total_seconds() / 3600
    frac = min(max(hours / _WORK_HOURS, 0.0), 0.999)
    return monday, moment.weekday() + frac


def add_workdays(moment: datetime, days: float) -> datetime:
    """`moment` moved forward by `days` working days, landing inside working hours."""
    monday, offset = workday_offset(moment)
    return workday_time(monday, offset + days)


def workday_between(start: datetime, end: datetime, fraction: float) -> datetime:
    """The instant `fraction` of the working time from `start` to `end` (weekends skipped)."""
    monday_a, offset_a = workday_offset(start)
    monday_b, offset_b = workday_offset(end)
    span = (monday_b - monday_a).days // 7 * 5 + offset_b - offset_a
    return workday_time(monday_a, offset_a + max(0.0, span) * fraction)
