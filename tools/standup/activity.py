"""What changed since the last stand-up: Asana stories → `Change`s → a digest per person."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from tools.asana.field_names import STATUS, STORY_POINTS
from tools.asana.models import Story
from tools.standup.models import Change, ChangeKind, TaskState

# Phrases with which people report being stuck. Matched on comment text only to flag a blocker for
# a human to look at; the text never chooses a target or an action.
STUCK = re.compile(
    r"\b(blocked|blocker|stuck|waiting (?:on|for)|can(?:no|')t (?:proceed|continue|move|reproduce)|"
    r"unable to|no progress|need(?:s)? help|struggling|still fighting|on hold|impediment)\b",
    re.IGNORECASE,
)


def _name(ref: object) -> str | None:
    return getattr(ref, "name", None) if ref is not None else None


def _value(ref: object) -> str | None:
    return getattr(ref, "name", None) if ref is not None else None


def change_from_story(task_gid: str, story: Story, project_gid: str) -> Change | None:
    """The change a story records, or None when it is irrelevant to the sprint project."""
    if story.created_at is None:
        return None
    base: dict[str, Any] = {
        "task_gid": task_gid,
        "at": story.created_at,
        "actor_gid": story.created_by.gid if story.created_by else None,
        "actor_name": _name(story.created_by),
    }
    sub = story.resource_subtype or ""
    if story.is_comment:
        return Change(kind=ChangeKind.COMMENT, text=story.text or "", **base)
    in_other_project = story.project is not None and story.project.gid != project_gid
    if sub == "section_changed":
        if in_other_project:
            return None  # the same move mirrored in e.g. the backlog project
        return Change(
            kind=ChangeKind.MOVED, old=_name(story.old_section), new=_name(story.new_section), **base
        )
    if sub == "marked_complete":
        return Change(kind=ChangeKind.COMPLETED, **base)
    if sub == "marked_incomplete":
        return Change(kind=ChangeKind.REOPENED, **base)
    if sub == "assigned":
        return Change(kind=ChangeKind.ASSIGNED, new=_name(story.assignee), **base)
    if sub == "unassigned":
        return Change(kind=ChangeKind.UNASSIGNED, **base)
    if sub in ("due_date_changed", "due_today", "dates_changed"):
        old = (story.old_dates or {}).get("due_on") if story.old_dates else None
        new = (story.new_dates or {}).get("due_on") if story.new_dates else None
        return Change(kind=ChangeKind.DUE, old=old, new=new, **base)
    field = _name(story.custom_field) or ""
    if sub == "enum_custom_field_changed" and field.casefold() == STATUS.casefold():
        return Change(
            kind=ChangeKind.STATUS, old=_value(story.old_enum_value), new=_value(story.new_enum_value), **base
        )
    if sub == "number_custom_field_changed" and field.casefold() == STORY_POINTS.casefold():
        old, new = story.old_number_value, story.new_number_value
        return Change(
            kind=ChangeKind.POINTS,
            old=None if old is None else f"{old:g}",
            new=None if new is None else f"{new:g}",
            **base,
        )
    if sub in ("added_to_project", "removed_from_project"):
        if story.project is None or story.project.gid != project_gid:
            return None
        kind = ChangeKind.ADDED if sub == "added_to_project" else ChangeKind.REMOVED
        return Change(kind=kind, **base)
    return None


def changes_in_window(
    stories: dict[str, list[Story]], project_gid: str, since: datetime, until: datetime
) -> list[Change]:
    """Changes with since < at ≤ until, oldest first."""
    out: list[Change] = []
    for task_gid, rows in stories.items():
        for story in rows:
            change = change_from_story(task_gid, story, project_gid)
            if change is not None and since < change.at <= until:
                out.append(change)
    out.sort(key=lambda c: (c.at, c.task_gid))
    return out


def is_stuck_comment(text: str | None) -> bool:
    return bool(text) and STUCK.search(text or "") is not None


class PersonProgress(BaseModel):
    """One person's line of the stand-up (gids of tasks)."""

    gid: str | None
    name: str
    done: list[str] = Field(default_factory=list)
    in_progress: list[str] = Field(default_factory=list)
    next: list[str] = Field(default_factory=list)
    comments: int = 0
    changes: int = 0


_PRIORITY_RANK = {"critical": 0, "high": 1, "medium": 2, "low": 3}


def next_order_key(task: TaskState) -> tuple[date, int, float, str]:
    """Order of 'next up': earliest due date, then priority, then smaller first."""
    return (
        task.due_on or date.max,
        _PRIORITY_RANK.get((task.priority or "").casefold(), 4),
        task.points if task.points is not None else 99.0,
        task.name,
    )


def progress_by_person(
    tasks: Iterable[TaskState], changes: list[Change], since: datetime, *, next_limit: int = 3
) -> list[PersonProgress]:
    """Done since the last stand-up, in progress now, and what is next, per assignee."""
    people: dict[str | None, PersonProgress] = {}
    by_gid = {t.gid: t for t in tasks}

    def person(task: TaskState) -> PersonProgress:
        key = task.assignee_gid
        if key not in people:
            people[key] = PersonProgress(gid=key, name=task.assignee_name or "Unassigned")
        return people[key]

    for task in sorted(by_gid.values(), key=next_order_key):
        row = person(task)
        if task.completed:
            if task.completed_at is not None and task.completed_at > since:
                row.done.append(task.gid)
        elif task.started:
            row.in_progress.append(task.gid)
        elif len(row.next) < next_limit:
            row.next.append(task.gid)
    for change in changes:
        touched = by_gid.get(change.task_gid)
        if touched is None:
            continue
        row = person(touched)
        row.changes += 1
        if change.kind == ChangeKind.COMMENT:
            row.comments += 1
    active = [p for p in people.values() if p.done or p.in_progress or p.next or p.changes]
    return sorted(active, key=lambda p: (p.gid is None, p.name.casefold()))
