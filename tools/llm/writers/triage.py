"""Offline writer for the triage comment (prompt `triage_comment`), registered like the planner's.

Importing this module registers the writer; agents/triage imports it before writing, so the
offline engine (and the model's fallback) always has it. Deterministic templates only.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from tools.llm.offline import clean, has_writer, number, register

PROMPT_ID = "triage_comment"


class TriageNote(BaseModel):
    """The words of a triage proposal (prompt `triage_comment`)."""

    model_config = ConfigDict(extra="forbid")

    summary: str = Field(min_length=10, max_length=1500, description="2-4 sentences for the comment.")
    suggestion: str = Field(min_length=3, max_length=200, description="One line for the AI Suggestion field.")


def triage_note(v: dict[str, Any]) -> TriageNote:
    points = v.get("estimate_points")
    low, high = v.get("estimate_low"), v.get("estimate_high")
    similar = [s for s in v.get("similar_tasks") or [] if isinstance(s, dict)]
    reasons = [clean(r, 90) for r in v.get("risk_reasons") or [] if clean(r)]
    codes = set(v.get("risk_codes") or [])
    count = int(v.get("criteria_count") or 0)

    if points is None:
        first = "No estimate could be made: the team has no completed, estimated tasks to compare with."
    else:
        first = f"Estimated at {number(points)} story points (likely {number(low)}–{number(high)})"
        if similar:
            shown = "; ".join(
                f"{clean(s.get('name'), 50)} ({number(s.get('points'))} pts)" for s in similar[:3]
            )
            first += f", by comparison with similar completed tasks: {shown}."
        else:
            first += "."
    second = (
        f"The description lists {count} acceptance criteria."
        if count
        else "No acceptance criteria were found in the description."
    )
    flag = str(v.get("risk_flag") or "low")
    third = (
        f"Risk is {flag} ({number(v.get('risk_score'))}/100): {'; '.join(reasons[:3])}."
        if reasons
        else f"Risk is {flag}; nothing specific was flagged."
    )
    fourth = f"AI Priority Score {number(v.get('priority_score'))}/100."

    todo = []
    if "big_estimate" in codes:
        todo.append("split it")
    if "no_criteria" in codes:
        todo.append("add acceptance criteria")
    if "blocked" in codes:
        todo.append("resolve the blocker")
    if "vague" in codes and "no_criteria" not in codes:
        todo.append("clarify the description")
    est = f"~{number(points)} pts" if points is not None else "no estimate"
    suggestion = f"{est}; " + (f"before planning: {', '.join(todo)}" if todo else "ready for planning")
    return TriageNote(summary=" ".join([first, second, third, fourth]), suggestion=suggestion[:200])


def ensure_registered() -> None:
    """Idempotent: register the writer unless a previous import already did."""
    if not has_writer(PROMPT_ID):
        register(PROMPT_ID)(triage_note)


ensure_registered()
