"""Working-time arithmetic behind the history timestamps."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sandbox.generator_calendar import (
    add_workdays,
    asana_time,
    sprint_windows,
    workday_between,
    workday_offset,
    workday_time,
)

MONDAY = date(2026, 11, 9)


def test_workday_time_skips_weekends() -> None:
    assert workday_time(MONDAY, 0) == datetime(2026, 11, 9, 9, 0, tzinfo=UTC)
    assert workday_time(MONDAY, 4.5) == datetime(2026, 11, 13, 13, 30, tzinfo=UTC)
    assert workday_time(MONDAY, 5) == datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
    assert workday_time(MONDAY, 9.99).date() == date(2026, 11, 20)


def test_offset_inverts_workday_time_and_snaps_weekends_forward() -> None:
    assert workday_offset(workday_time(MONDAY, 3.25)) == (MONDAY, 3.25)
    saturday = datetime(2026, 11, 14, 12, 0, tzinfo=UTC)
    assert workday_offset(saturday) == (date(2026, 11, 16), 0.0)


def test_add_and_between_stay_on_weekdays() -> None:
    friday_late = datetime(2026, 11, 13, 17, 0, tzinfo=UTC)
    assert add_workdays(friday_late, 0.5).weekday() == 0
    tuesday = datetime(2026, 11, 17, 11, 0, tzinfo=UTC)
    for i in range(11):
        assert workday_between(friday_late, tuesday, i / 10).weekday() < 5
    assert workday_between(friday_late, tuesday, 0.0) == friday_late
    assert workday_between(friday_late, tuesday, 1.0) == tuesday


def test_sprint_windows_end_before_the_anchor() -> None:
    windows = sprint_windows(date(2026, 11, 23), 6)
    assert [w.name for w in windows] == [f"Sprint {n}" for n in range(18, 24)]
    assert windows[-1].end == date(2026, 11, 20) and windows[0].start == date(2026, 8, 31)
    # A mid-week anchor still yields Monday starts.
    assert all(w.start.weekday() == 0 for w in sprint_windows(date(2026, 11, 25), 3))


def test_asana_time_format() -> None:
    assert asana_time(datetime(2026, 11, 9, 9, 5, 7, 123456, tzinfo=UTC)) == "2026-11-09T09:05:07.123Z"
