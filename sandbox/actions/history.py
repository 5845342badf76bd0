"""System stories and comment stories, each announced on the event stream."""

from __future__ import annotations

from typing import Any

from sandbox import richtext
from sandbox.events import emit
from sandbox.records import CustomField, Story, Task, User
from sandbox.serialize import display_value
from sandbox.store import Store


def system_story(
    store: Store, task: Task, actor: User, subtype: str, text: str, fields: dict[str, Any] | None = None
) -> Story:
    story = store.add_story(
        task.gid,
        type="system",
        resource_subtype=subtype,
        text=f"{actor.name} {text}",
        created_by=actor.gid,
        source="api",
        fields=fields,
    )
    # asana_oas.yaml TaskResponse.modified_at: "story is created on a task" changes it, so moves
    # between projects/sections do too through the system story they leave.
    task.modified_at = story.created_at
    emit(store, story, "added", user=actor.gid, parent=task)
    return story


def comment(
    store: Store, task: Task, actor: User, text: str | None, html_text: str | None, is_pinned: bool = False
) -> Story:
    if html_text is not None:
        # The plain text Asana derives from the rich text (the route has validated it already).
        text = richtext.plain_text(richtext.parse(html_text, "story"))
    story = store.add_story(
        task.gid,
        type="comment",
        resource_subtype="comment_added",
        text=text or "",
        html_text=html_text,
        created_by=actor.gid,
        source="api",
        is_pinned=is_pinned,
    )
    task.modified_at = story.created_at
    emit(store, story, "added", user=actor.gid, parent=task)
    return story


_VALUE_KEYS = {
    "text": ("old_text_value", "new_text_value"),
    "number": ("old_number_value", "new_number_value"),
    "enum": ("old_enum_value", "new_enum_value"),
    "multi_enum": ("old_multi_enum_values", "new_multi_enum_values"),
    "date": ("old_date_value", "new_date_value"),
    "people": ("old_people_value", "new_people_value"),
}


def field_changed(store: Store, task: Task, actor: User, cf: CustomField, old: Any, new: Any) -> Story:
    kind = cf.resource_subtype
    old_key, new_key = _VALUE_KEYS[kind]
    new_text = display_value(store, cf, new)
    text = f'changed {cf.name} to "{new_text}"' if new_text is not None else f"cleared {cf.name}"
    fields: dict[str, Any] = {
        "custom_field": cf.gid,
        old_key: _story_value(kind, old),
        new_key: _story_value(kind, new),
    }
    return system_story(store, task, actor, f"{kind}_custom_field_changed", text, fields)


def _story_value(kind: str, raw: Any) -> Any:
    if raw is None:
        return [] if kind in ("multi_enum", "people") else None
    if kind == "enum":
        return {"gid": raw, "resource_type": "enum_option"}
    if kind == "multi_enum":
        return [{"gid": g, "resource_type": "enum_option"} for g in raw]
    if kind == "people":
        return [{"gid": g, "resource_type": "user"} for g in raw]
    if kind == "date":
        return dict(raw)
    return raw
