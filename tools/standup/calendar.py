"""Working-day arithmetic (Monday–Friday) used by staleness, due-soon and the burndown."""

from __future__ import annotations

from datetime import date, timedelta


def is_working_day(day: date) -> bool:
    return day.weekday() < 5


def working_days(start: date, end: date) -> list[date]:
    """Working days in [start, end], oldest first (empty when end < start)."""
    days: list[date] = []
    day = start
    while day <= end:
        if is_working_day(day):
            days.append(day)
        day += timedelta(days=1)
    return days


def working_days_between(earlier: date, later: date) -> int:
    """Working days d with earlier < d ≤ later (0 when later ≤ earlier): 'how many days ago'."""
    if later <= earlier:
        return 0
    return len(working_days(earlier + timedelta(days=1), later))


def add_working_days(day: date, n: int) -> date:
    """The date n working days after `day` (n ≥ 0; n = 0 gives `day` itself)."""
    out = day
    while n > 0:
        out += timedelta(days=1)
        if is_working_day(out):
            n -= 1
    return out
