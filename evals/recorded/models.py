"""The recorded-sprint format (version 1), as pydantic models. FORMAT.md describes it for humans.

Identifiers inside a recording are its own stable strings (issue keys, "u1", "backlog"), not
Asana gids: the replay harness inserts the snapshot into a fresh sandbox and maps them to gids.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tools.asana.field_names import STORY_POINTS

FORMAT_NAME: Final = "sprintpilot.recorded_sprint"
FORMAT_VERSION: Final = 1

FieldValue = float | str | None


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RecordedUser(_Model):
    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    email: str = Field(min_length=3)


class RecordedField(_Model):
    """A workspace custom field (Asana resource_subtype and, for enums, option names)."""

    name: str = Field(min_length=1)
    type: Literal["number", "text", "enum"]
    precision: int = 0
    options: list[str] = Field(default_factory=list)


class RecordedProject(_Model):
    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    kind: Literal["backlog", "sprint"]
    sections: list[str] = Field(min_length=1)
    start_on: date | None = None
    due_on: date | None = None
    notes: str = ""


class RecordedMembership(_Model):
    project: str
    section: str


class RecordedTask(_Model):
    """A task as it was at the snapshot (or when added); `fields` are custom fields by name."""

    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    notes: str = ""
    assignee: str | None = None
    completed: bool = False
    completed_on: date | None = None
    created_on: date | None = None
    tags: list[str] = Field(default_factory=list)
    fields: dict[str, FieldValue] = Field(default_factory=dict)
    memberships: list[RecordedMembership] = Field(default_factory=list)
    dependencies: list[str] = Field(default_factory=list)


class Snapshot(_Model):
    """The workspace at sprint start, before the sprint project is filled in."""

    workspace: str
    team: str
    users: list[RecordedUser]
    fields: list[RecordedField]
    projects: list[RecordedProject]
    tasks: list[RecordedTask]
    # Task ids put into the sprint project at its start (the real commitment).
    sprint_scope: list[str] = Field(default_factory=list)


class _Event(_Model):
    day: int = Field(ge=0, description="days since the sprint start (0 = start day)")
    task: str


class TaskAdded(_Event):
    type: Literal["task_added"] = "task_added"
    data: RecordedTask


class TaskMoved(_Event):
    type: Literal["task_moved"] = "task_moved"
    project: str
    section: str


class TaskRemoved(_Event):
    """Taken out of the sprint project (Jira 'punted'); it stays in the backlog."""

    type: Literal["task_removed"] = "task_removed"
    project: str


class TaskCompleted(_Event):
    type: Literal["task_completed"] = "task_completed"


class Commented(_Event):
    type: Literal["commented"] = "commented"
    author: str | None = None
    text: str = Field(min_length=1)


class ReEstimated(_Event):
    type: Literal["re_estimated"] = "re_estimated"
    field: str = STORY_POINTS
    old: float | None = None
    new: float | None = None


class AssigneeChanged(_Event):
    type: Literal["assignee_changed"] = "assignee_changed"
    old: str | None = None
    new: str | None = None


Event = Annotated[
    TaskAdded | TaskMoved | TaskRemoved | TaskCompleted | Commented | ReEstimated | AssigneeChanged,
    Field(discriminator="type"),
]


class Outcome(_Model):
    """What really happened, from the sprint report (points at their final estimate)."""

    completed_points: float
    punted_points: float
    not_completed_points: float
    completed_items: list[str]
    punted_items: list[str]
    not_completed_items: list[str]
    # Jira: in this sprint but finished in another one (not counted as completed here).
    completed_elsewhere_items: list[str] = Field(default_factory=list)


class SourceRef(_Model):
    dataset: str
    project: str
    sprint_id: str
    sprint_name: str
    notes: str = ""


class RecordedSprint(_Model):
    format: Literal["sprintpilot.recorded_sprint"] = FORMAT_NAME
    version: Literal[1] = FORMAT_VERSION
    id: str = Field(min_length=1)
    sequence: int = Field(ge=1, description="1-based position in the recorded series")
    name: str
    start_on: date
    end_on: date
    source: SourceRef
    snapshot: Snapshot
    events: list[Event] = Field(default_factory=list)
    outcome: Outcome

    @property
    def length_days(self) -> int:
        return (self.end_on - self.start_on).days + 1

    @model_validator(mode="after")
    def _consistent(self) -> RecordedSprint:
        if self.end_on < self.start_on:
            raise ValueError(f"sprint {self.id} ends ({self.end_on}) before it starts ({self.start_on})")
        known = {t.id for t in self.snapshot.tasks} | {
            e.data.id for e in self.events if isinstance(e, TaskAdded)
        }
        for e in self.events:
            if e.task not in known:
                raise ValueError(f"event {e.type} on day {e.day} names unknown task {e.task!r}")
        days = [e.day for e in self.events]
        if days != sorted(days):
            raise ValueError("events must be in day order")
        missing = [t for t in self.snapshot.sprint_scope if t not in known]
        if missing:
            raise ValueError(f"sprint_scope names unknown tasks: {', '.join(missing[:5])}")
        return self
