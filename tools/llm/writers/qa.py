"""Offline writer for the QA review comment: templated sentences from the computed outcome."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from tools.llm.offline import clean, plural, register


class _QaCommentText(BaseModel):
    # Same fields as agents.qa.schemas.QaCommentText (tools may not import agents).
    headline: str
    closing: str


@register("qa_review_comment")
def qa_review_comment(v: dict[str, Any]) -> BaseModel:
    name = clean(v.get("task_name"), 70) or "this task"
    unmet = int(v.get("unmet_count") or 0)
    checks = v.get("checks") or []
    if v.get("outcome") == "pass":
        headline = f"“{name}” meets the Definition of Done: all {plural(len(checks), 'check')} passed."
        move = clean(v.get("move"), 120)
        closing = (
            f"Proposed next step: {move}; it waits for approval before anything changes."
            if move
            else "Nothing needs to move; no further action is proposed."
        )
    else:
        headline = f"“{name}” does not meet the Definition of Done yet: {plural(unmet, 'item')} unmet."
        closing = (
            "Please address the unmet items (each says what would satisfy it) and move the task back "
            "to Ready for Review; the review runs again then."
        )
    return _QaCommentText(headline=headline, closing=closing)
