"""The feedback records the rules read, and the narrow port they read them through.

Text people wrote (`text`) is untrusted data: stored and shown, never executed or parsed for
anything but the few structured facts `tools.feedback.classify` extracts (a thumbs-down, a
leading "wrong", a number of points).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict


class FeedbackKind(StrEnum):
    THUMBS_DOWN_COMMENT = "thumbs_down_comment"  # a 👎 reply to a sprintpilot comment
    WRONG_COMMENT = "wrong_comment"  # a reply starting with "wrong"
    FIELD_CORRECTED = "field_corrected"  # a person changed an AI field
    ACTION_REJECTED = "action_rejected"  # a person rejected a proposed action


class Verdict(StrEnum):
    """What the feedback says about the prediction, as far as structure tells."""

    CORRECTION = "correction"  # a better value was given (points, a score)
    FALSE_ALARM = "false_alarm"  # a flag (at-risk nudge, delay alert, high Risk Score) was wrong
    MISS = "miss"  # a person raised a risk sprintpilot had not flagged
    DISAGREE = "disagree"  # "wrong" without more structure
    REJECTED = "rejected"  # an action was rejected


class FeedbackItem(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: FeedbackKind
    verdict: Verdict
    created_at: datetime
    agent: str | None = None
    proposal_id: str | None = None
    action_index: int | None = None
    action_kind: str | None = None
    task_gid: str | None = None
    project_gid: str | None = None
    field: str | None = None
    predicted: Any = None
    corrected: Any = None
    user_gid: str | None = None
    actor: str = ""
    text: str | None = None


class DecisionOutcome(BaseModel):
    """One proposal's human verdict on one kind of action: rejected when every action of that
    kind in it was rejected, else approved (approved or edited)."""

    model_config = ConfigDict(frozen=True)

    proposal_id: str
    project_gids: tuple[str, ...]
    action_kind: str
    rejected: bool
    decided_at: datetime


class FeedbackSource(Protocol):
    """What agents read (service/db/feedback.py implements it over the app database)."""

    def items(
        self,
        *,
        since: datetime,
        task_gids: Collection[str] | None = None,
        kinds: Collection[FeedbackKind] | None = None,
    ) -> list[FeedbackItem]: ...

    def decision_outcomes(
        self, *, since: datetime, project_gids: Collection[str]
    ) -> list[DecisionOutcome]: ...
