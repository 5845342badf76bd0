"""Plain inputs and outputs of the retro analytics (no Asana types: the replay eval reuses them)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field


class Transition(BaseModel):
    """A workflow change: `field` is "section" or "status"; values are section/option names."""

    at: datetime
    field: str
    old: str | None = None
    new: str | None = None


class DueChange(BaseModel):
    at: datetime
    old: date | None = None
    new: date | None = None


class Comment(BaseModel):
    at: datetime
    author: str | None = None
    text: str
    task_gid: str | None = None


class RetroItem(BaseModel):
    gid: str
    name: str
    notes: str = ""
    points: float | None = None
    assignee_gid: str | None = None
    assignee_name: str | None = None
    completed: bool = False
    completed_at: datetime | None = None
    added_at: datetime | None = None  # when it entered the sprint project (None: unknown → at start)
    due_on: date | None = None
    transitions: list[Transition] = Field(default_factory=list)
    due_changes: list[DueChange] = Field(default_factory=list)
    comments: list[Comment] = Field(default_factory=list)
    status: str | None = None  # current Status field


class SprintWindow(BaseModel):
    name: str
    start_on: date
    end_on: date
