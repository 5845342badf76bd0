"""When each ceremony takes place, relative to its sprint's dates, in the team's local time.

Defaults (local time in `SPRINTPILOT_TIMEZONE`): sprint review on the sprint's last day 14:00 for
60 minutes, retro the same day 15:30 for 60 minutes, planning of the next sprint on its first day
10:00 for 120 minutes. `SPRINTPILOT_CEREMONY_TIMES` (JSON) overrides any part per ceremony, e.g.
`{"review": {"at": "13:00", "minutes": 45}, "planning": {"anchor": "end", "offset_days": 0}}`:
`anchor` is the sprint's `start` or `end` day (for planning: of the sprint being planned),
`offset_days` moves it (negative: before), `at` is HH:MM local, `minutes` the length.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

Ceremony = Literal["planning", "review", "retro"]
CEREMONIES: tuple[Ceremony, ...] = ("planning", "review", "retro")


class CeremonySlot(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    anchor: Literal["start", "end"]
    offset_days: int = Field(default=0, ge=-14, le=14)
    at: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    minutes: int = Field(ge=15, le=480)

    def local_start(self, start_on: date, end_on: date) -> tuple[date, time]:
        day = (start_on if self.anchor == "start" else end_on) + timedelta(days=self.offset_days)
        hh, mm = self.at.split(":")
        return day, time(int(hh), int(mm))


DEFAULT_SLOTS: dict[Ceremony, CeremonySlot] = {
    "planning": CeremonySlot(anchor="start", at="10:00", minutes=120),
    "review": CeremonySlot(anchor="end", at="14:00", minutes=60),
    "retro": CeremonySlot(anchor="end", at="15:30", minutes=60),
}


class CeremonyTimes(BaseModel):
    """Per-ceremony overrides merged over `DEFAULT_SLOTS` (a partial entry keeps the other parts)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    planning: dict[str, Any] = Field(default_factory=dict)
    review: dict[str, Any] = Field(default_factory=dict)
    retro: dict[str, Any] = Field(default_factory=dict)

    @field_validator("planning", "review", "retro")
    @classmethod
    def _valid(cls, value: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        CeremonySlot.model_validate({**DEFAULT_SLOTS[info.field_name].model_dump(), **value})  # type: ignore[index]
        return value

    def slot(self, ceremony: Ceremony) -> CeremonySlot:
        return CeremonySlot.model_validate(
            {**DEFAULT_SLOTS[ceremony].model_dump(), **getattr(self, ceremony)}
        )


class Window(BaseModel):
    start: datetime  # UTC
    end: datetime  # UTC
    local_day: date


def ceremony_window(
    ceremony: Ceremony, start_on: date, end_on: date, times: CeremonyTimes, timezone: str
) -> Window:
    """The ceremony's start and end (UTC) for a sprint running `start_on`..`end_on`."""
    slot = times.slot(ceremony)
    day, at = slot.local_start(start_on, end_on)
    local = datetime.combine(day, at, tzinfo=ZoneInfo(timezone))
    start = local.astimezone(UTC)
    return Window(start=start, end=start + timedelta(minutes=slot.minutes), local_day=day)


def reminder_day(day: date) -> date:
    """The working day before `day` (a Monday ceremony is reminded of on Friday)."""
    prev = day - timedelta(days=1)
    while prev.weekday() >= 5:
        prev -= timedelta(days=1)
    return prev


# The CLI and the beat job pass the settings (service/settings.py) explicitly; a run started from
# chat or MCP names only the ceremony and the project, so its defaults read the same variables
# here: every surface then proposes the same time, and a later run sees nothing to change.
def env_timezone() -> str:
    return os.environ.get("SPRINTPILOT_TIMEZONE", "").strip() or "UTC"


def env_times() -> CeremonyTimes:
    raw = os.environ.get("SPRINTPILOT_CEREMONY_TIMES", "").strip()
    return CeremonyTimes.model_validate(json.loads(raw)) if raw else CeremonyTimes()


def env_reminders() -> bool:
    return os.environ.get("SPRINTPILOT_CEREMONY_REMINDERS", "").strip().lower() not in {
        "0",
        "false",
        "no",
        "off",
    }
