"""Offline writer for `sprint_review_summary`: the review's opening paragraph from computed facts."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from tools.llm.offline import clean, join_names, number, register


class _ReviewText(BaseModel):
    summary: str


@register("sprint_review_summary")
def write_sprint_review(v: dict[str, Any]) -> _ReviewText:
    n = v.get("numbers") or {}
    sprint = clean(v.get("sprint_name") or "The sprint", 60)
    delivered = v.get("delivered") or []
    slipped = v.get("slipped") or []
    if not delivered:
        text = f"No work was completed in {sprint}; there is nothing to demo."
    else:
        epics = join_names([clean(g["epic"], 40) for g in delivered[:4]])
        more = f" and {len(delivered) - 4} more" if len(delivered) > 4 else ""
        text = (
            f"In {sprint} the team delivered {number(n.get('done_items', 0))} items "
            f"({number(n.get('done_points', 0))} of {number(n.get('scope_points', 0))} points) "
            f"across {epics}{more}."
        )
    if slipped:
        first = slipped[0]
        text += (
            f" {len(slipped)} item{'s' if len(slipped) != 1 else ''} slipped; "
            f"for example {clean(first['task'], 50)}: {clean(first['why'], 80)}."
        )
    elif delivered:
        text += " Nothing slipped."
    return _ReviewText(summary=text)
