"""Stale check at apply time: has Asana moved on since the agent looked?

`before` holds what the agent observed; if Asana now shows something else (and not already the
value we want), a human changed it after the proposal: the write is refused as a conflict rather
than silently overwriting them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from pydantic import BaseModel

from tools.asana.models import Project, Task

TASK_ATTRIBUTES = ("name", "notes", "assignee", "due_on", "due_at", "start_on", "completed")


def normalize(value: Any) -> Any:
    """One comparable form for values read from Asana, written by agents or edited by humans."""
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, BaseModel) and hasattr(value, "gid"):
        return value.gid
    if isinstance(value, dict) and "gid" in value:
        return str(value["gid"])
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        # Datetimes travel as strings through JSON; compare them in one canonical form.
        if len(text) > 10 and text[4:5] == "-" and "T" in text:
            try:
                return normalize(datetime.fromisoformat(text.replace("Z", "+00:00")))
            except ValueError:
                return text
        return text
    if isinstance(value, list | tuple):
        return [normalize(v) for v in value]
    return value


def current_value(task: Task, name: str) -> Any:
    """A task attribute (assignee → gid) or, for any other name, the custom field's typed value."""
    if name in TASK_ATTRIBUTES:
        return normalize(getattr(task, name))
    return normalize(task.field(name))


class FieldState(BaseModel):
    field: str
    before: Any
    now: Any
    wanted: Any


def compare(
    task: Task, before: dict[str, Any] | None, wanted: dict[str, Any]
) -> tuple[list[FieldState], bool]:
    """(conflicts, already_done): conflicts are fields whose value is neither `before` nor wanted."""
    return compare_values(lambda name: current_value(task, name), before, wanted)


def compare_project_fields(
    project: Project, before: dict[str, Any] | None, wanted: dict[str, Any]
) -> tuple[list[FieldState], bool]:
    """`compare` for a project's own custom field values (by field name)."""
    return compare_values(lambda name: normalize(project.field(name)), before, wanted)


def compare_values(
    current: Callable[[str], Any], before: dict[str, Any] | None, wanted: dict[str, Any]
) -> tuple[list[FieldState], bool]:
    conflicts: list[FieldState] = []
    for name, expected in (before or {}).items():
        now = current(name)
        target = normalize(wanted.get(name, expected))
        if now != normalize(expected) and now != target:
            conflicts.append(FieldState(field=name, before=normalize(expected), now=now, wanted=target))
    done = bool(wanted) and all(current(n) == normalize(v) for n, v in wanted.items())
    return conflicts, done
