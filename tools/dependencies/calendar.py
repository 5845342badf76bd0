"""Working-day arithmetic (Monday–Friday; no holiday calendar).

Dates map to a dense integer index of working days so the cascade does plain integer maths:
`to_index` of a Saturday or Sunday is the index of the following Monday ("work resumes then"),
and `from_index` always returns a weekday.
"""

from __future__ import annotations

from datetime import date, timedelta

# A Monday well before any date we handle; indices are counted from it.
_EPOCH = date(1970, 1, 5)


def is_working_day(day: date) -> bool:
    return day.weekday() < 5


def to_index(day: date) -> int:
    """Working-day index of `day` (a weekend day maps to the next Monday)."""
    days = (day - _EPOCH).days
    weeks, rest = divmod(days, 7)
    return weeks * 5 + min(rest, 5)


def to_index_finish(day: date) -> int:
    """Index for a finish date: a weekend finish counts as the Friday before (work done by then)."""
    days = (day - _EPOCH).days
    weeks, rest = divmod(days, 7)
    return weeks * 5 + min(rest, 4)


def from_index(index: int) -> date:
    weeks, rest = divmod(index, 5)
    return _EPOCH + timedelta(days=weeks * 7 + rest)


def add_working_days(day: date, n: int) -> date:
    """`day` moved by `n` working days (a weekend start first rolls to Monday when n > 0)."""
    start = to_index(day) if n >= 0 else to_index_finish(day)
    return from_index(start + n)


def next_working_day(day: date) -> date:
    """The first working day strictly after `day`."""
    return from_index(to_index_finish(day) + 1)


def working_days_between(start: date, end: date) -> int:
    """Working days from `start` to `end` (positive when end is later; 0 for the same day)."""
    return to_index_finish(end) - to_index_finish(start)


def working_days_inclusive(start: date, end: date) -> int:
    """Working days in [start, end], at least 1 (a task occupies at least one day)."""
    return max(1, to_index_finish(end) - to_index(start) + 1)
