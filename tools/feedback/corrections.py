"""Corrected story points: a person's word on a task's size is that task's ground truth.

Sources: a person setting the Estimated Story Points field, or a "wrong, it's 8 points" reply to
sprintpilot's estimate comment. The newest correction of a task wins (over the AI estimate and
over an earlier correction); the estimator's index then holds the task with that value, so
similar tasks are estimated from it (agents/triage/index.py `with_corrections`).
"""

from __future__ import annotations

from collections.abc import Iterable

from tools.feedback.classify import is_points_field
from tools.feedback.models import FeedbackItem, Verdict


def corrected_points(items: Iterable[FeedbackItem]) -> dict[str, float]:
    """task gid → the newest corrected points value (positive numbers only)."""
    newest: dict[str, FeedbackItem] = {}
    for item in items:
        value = item.corrected
        if (
            item.verdict is not Verdict.CORRECTION
            or item.task_gid is None
            or not is_points_field(item.field)
            or not isinstance(value, int | float)
            or isinstance(value, bool)
            or value <= 0
        ):
            continue
        prior = newest.get(item.task_gid)
        if prior is None or item.created_at >= prior.created_at:
            newest[item.task_gid] = item
    return {gid: float(item.corrected) for gid, item in newest.items()}
