"""Plain snapshots the stand-up analytics work on (mapped from Asana by the agent)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class TaskState(_Model):
    """A sprint task as it is now."""

    gid: str
    name: str
    assignee_gid: str | None = None
    assignee_name: str | None = None
    section: str | None = None  # section within the sprint project
    status: str | None = None  # the "Status" enum custom field
    priority: str | None = None
    points: float | None = None
    completed: bool = False
    completed_at: datetime | None = None
    created_at: datetime | None = None
    modified_at: datetime | None = None
    due_on: date | None = None
    # Dependency gid -> completed? (None when unknown).
    dependencies: dict[str, bool | None] = Field(default_factory=dict)
    dependency_names: dict[str, str] = Field(default_factory=dict)
    impediments: str | None = None
    has_impediments_field: bool = False
    url: str | None = None  # Asana's permalink, when read

    @property
    def started(self) -> bool:
        """In progress by section or Status (review and blocked count as started)."""
        if self.completed:
            return False
        words = f"{self.section or ''} {self.status or ''}".casefold()
        return any(w in words for w in ("progress", "review", "blocked", "doing"))

    @property
    def blocked_status(self) -> bool:
        return (self.status or "").casefold() == "blocked"


class ChangeKind(StrEnum):
    COMPLETED = "completed"
    REOPENED = "reopened"
    MOVED = "moved"
    STATUS = "status"
    ASSIGNED = "assigned"
    UNASSIGNED = "unassigned"
    DUE = "due"
    POINTS = "points"
    ADDED = "added"
    REMOVED = "removed"
    COMMENT = "comment"


class Change(_Model):
    """One thing that happened to a sprint task (from an Asana story)."""

    task_gid: str
    at: datetime
    kind: ChangeKind
    actor_gid: str | None = None
    actor_name: str | None = None
    old: str | None = None
    new: str | None = None
    text: str | None = None  # comment text (untrusted; only displayed, fenced in prompts)
