"""Offline writers for the dependency manager's prompts (templated, deterministic)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from tools.llm.offline import clean, number, plural, register


class _Narrative(BaseModel):
    headline: str
    narrative: str


class _Alert(BaseModel):
    text: str


@register("dependencies_summary")
def summary(v: dict[str, Any]) -> BaseModel:
    slipped = v.get("slipped") or []
    late = v.get("late_tasks") or []
    affected = int(v.get("affected_count") or 0)
    names = ", ".join(clean(s.get("name"), 60) for s in slipped[:3]) or "no task"
    if not slipped:
        return _Narrative(
            headline="No slipped, blocked or overdue task pushes any other task.",
            narrative="The dependency graph was checked; nothing is held up by a late prerequisite.",
        )
    headline = (
        f"{names} slipping pushes {plural(affected, 'task')}; {len(late)} now miss their due dates."
        if late
        else f"{names} slipping pushes {plural(affected, 'task')}; every due date still holds."
    )
    parts = [f"Trigger: {v.get('trigger')}. {names} {'slip' if len(slipped) > 1 else 'slips'}."]
    if affected:
        parts.append(f"The delay reaches {plural(affected, 'dependent task')} through the dependency links.")
    if late:
        worst = min(late, key=lambda t: t.get("slack", 0))
        parts.append(
            f"{plural(len(late), 'task')} now finish after the due date; the worst is "
            f"{clean(worst.get('name'), 60)} ({number(-worst.get('slack', 0))} working days late, "
            "earliest finish "
            f"{worst.get('earliest_finish')})."
        )
    suggestions = v.get("suggestions") or []
    if suggestions:
        parts.append("First step: " + clean(suggestions[0], 200))
    if v.get("cycles"):
        parts.append(
            "Some dependency links form cycles; those tasks could not be scheduled until the cycle is cut."
        )
    return _Narrative(headline=clean(headline, 190), narrative=" ".join(parts))


@register("dependencies_alert")
def alert(v: dict[str, Any]) -> BaseModel:
    slack = v.get("slack")
    due = v.get("due_on") or "none"
    lines = [
        f"Heads-up: “{clean(v.get('prerequisite_name'), 80)}” ({v.get('reason')}) now finishes "
        f"{v.get('prerequisite_finish')}, so this task can start {v.get('earliest_start')} and finish "
        f"{v.get('earliest_finish')} at the earliest."
    ]
    if slack is None or slack == "n/a":
        lines.append("It has no due date, so nothing to move; plan the start accordingly.")
    elif float(slack) < 0:
        lines.append(
            f"That is {number(-float(slack))} working days after its due date ({due}); "
            "a due-date change has been "
            "proposed and waits for approval."
        )
    else:
        lines.append(f"Its due date ({due}) still holds with {number(slack)} working days of slack.")
    lines.append(f"Risk Score: {v.get('risk_score')}/100.")
    return _Alert(text=" ".join(lines))
