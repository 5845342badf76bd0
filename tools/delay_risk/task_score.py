"""The 0–100 Risk Score written to Asana for a task in a delay cascade, with its reasons.

A transparent logistic score over schedule facts the cascade computes (so a team can check every
point of it by hand):

    z = −2.2 + 0.9·min(late days, 5) + 0.25·min(pushed days, 10) + 1.5·blocked
             + 0.2·min(open prerequisites, 5) + 0.8·(0 ≤ slack ≤ 1) + 0.6·overdue
    score = round(100 / (1 + e^−z))

late days = working days the new earliest finish is past the task's due date; pushed days =
working days the cascade moved the finish; "slack ≤ 1" = on time but with no room left. A task
with nothing pushing it scores 10.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

INTERCEPT = -2.2
W_LATE = 0.9
W_PUSHED = 0.25
W_BLOCKED = 1.5
W_PREREQS = 0.2
W_TIGHT = 0.8
W_OVERDUE = 0.6


@dataclass(frozen=True)
class TaskRisk:
    score: int
    reasons: list[str] = field(default_factory=list)


def risk_score(
    *,
    slack_days: int | None,
    delay_days: int,
    blocked: bool = False,
    open_prerequisites: int = 0,
    overdue: bool = False,
) -> TaskRisk:
    late = max(0, -slack_days) if slack_days is not None else 0
    z = INTERCEPT
    reasons: list[str] = []
    if late:
        z += W_LATE * min(late, 5)
        reasons.append(f"finishes {late} working day{'s' if late != 1 else ''} after its due date")
    if delay_days:
        z += W_PUSHED * min(delay_days, 10)
        reasons.append(f"pushed {delay_days} working day{'s' if delay_days != 1 else ''} by prerequisites")
    if blocked:
        z += W_BLOCKED
        reasons.append("marked Blocked")
    if open_prerequisites:
        z += W_PREREQS * min(open_prerequisites, 5)
        reasons.append(
            f"{open_prerequisites} unfinished prerequisite{'s' if open_prerequisites != 1 else ''}"
        )
    if slack_days is not None and 0 <= slack_days <= 1:
        z += W_TIGHT
        reasons.append(f"only {slack_days} working day{'s' if slack_days != 1 else ''} of slack")
    if overdue:
        z += W_OVERDUE
        reasons.append("already past its due date")
    return TaskRisk(score=int(round(100 / (1 + math.exp(-z)))), reasons=reasons)
