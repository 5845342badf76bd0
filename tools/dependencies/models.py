"""Plain records the dependency tools work on (built from Asana tasks by the agent)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True, slots=True)
class TaskNode:
    gid: str
    name: str = ""
    start_on: date | None = None
    due_on: date | None = None
    points: float | None = None
    assignee_gid: str | None = None
    completed: bool = False
    status: str | None = None
    # False for a prerequisite outside the projects read (known only by gid).
    known: bool = True
    depends_on: tuple[str, ...] = field(default=())
    # due_on is the sprint's end, not the task's own date (used to schedule, never written back).
    due_implicit: bool = False

    @property
    def blocked(self) -> bool:
        return (self.status or "").strip().casefold() == "blocked"


@dataclass(frozen=True, slots=True)
class Slip:
    """A task whose finish moves: to `new_finish`, or later by `days` working days."""

    gid: str
    new_finish: date | None = None
    days: int | None = None
    reason: str = "slipped"


@dataclass(frozen=True, slots=True)
class Affected:
    gid: str
    depth: int  # 0 = the slipped task itself, 1 = direct dependent, ...
    via: str | None  # the prerequisite that pushes it (latest-finishing one)
    planned_finish: date | None
    earliest_start: date
    earliest_finish: date
    due_on: date | None
    duration_days: int
    duration_source: str  # "dates", "points", "default"
    slack_days: int | None  # working days: due_on − new earliest finish (negative = late)
    delay_days: int  # working days the finish moves past its plan (0 = absorbed)

    @property
    def late(self) -> bool:
        return self.slack_days is not None and self.slack_days < 0


@dataclass
class CascadeResult:
    slipped: list[str]
    affected: list[Affected]
    cycles: list[list[str]]
    skipped_in_cycle: list[str]

    def by_gid(self) -> dict[str, Affected]:
        return {a.gid: a for a in self.affected}
