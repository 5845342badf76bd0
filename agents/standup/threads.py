"""One stand-up per project per local day: the deterministic thread id that enforces it.

`graphs.runner.start_run` refuses a thread that already ran (ThreadBusy), so a second trigger on
the same day (CLI, schedule, event) lands on the used thread and writes nothing. The specialist
also checks the project for today's stand-up status update, which covers runs on other threads.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tools.errors import UserError


def local_day(now: datetime, timezone: str = "UTC") -> date:
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):  # the zone comes from --timezone or settings
        raise UserError(f"unknown time zone {timezone!r}; use an IANA name like Europe/Paris") from None
    return now.astimezone(zone).date()


def standup_thread_id(project_gid: str, day: date) -> str:
    return f"standup-{project_gid}-{day.isoformat()}"
