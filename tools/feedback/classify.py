"""Structured facts from feedback (pure): is a reply a thumbs-down or a "wrong …", the points it
names, and what a person's change of an AI field says about the prediction.

Only these facts are taken from what people wrote; the text itself is stored as data and never
chooses a tool, a target or an approver.
"""

from __future__ import annotations

import re
from typing import Any

from tools.asana.field_names import ESTIMATED_STORY_POINTS, IMPEDIMENTS, RISK_SCORE
from tools.feedback.models import FeedbackKind, Verdict

THUMBS_DOWN = ("\U0001f44e", ":-1:", ":thumbsdown:")
# A Risk Score at or above this is a flag (tools/refinement/risk.py's "high").
RISK_FLAG_LINE = 50.0
_WRONG = re.compile(r"\s*wrong\b", re.IGNORECASE)
_POINTS = re.compile(r"(\d{1,3}(?:\.\d+)?)\s*(?:story\s*)?(?:points?|pts?|sp)\b", re.IGNORECASE)
_IT_IS = re.compile(r"\b(?:it'?s|it is|should be|is)\s+(\d{1,3}(?:\.\d+)?)\b", re.IGNORECASE)
MAX_POINTS = 100.0


def reply_kind(text: str | None) -> FeedbackKind | None:
    """A 👎 anywhere in a short reply, or a reply starting with "wrong" (any case); else None."""
    body = (text or "").strip()
    if not body:
        return None
    if _WRONG.match(body):
        return FeedbackKind.WRONG_COMMENT
    if any(mark in body for mark in THUMBS_DOWN) and len(body) <= 280:
        return FeedbackKind.THUMBS_DOWN_COMMENT
    return None


def stated_points(text: str | None) -> float | None:
    """The story points a "wrong, it's 8 points" reply names (first match), within 0–100."""
    body = text or ""
    found = _POINTS.search(body) or _IT_IS.search(body)
    if found is None:
        return None
    value = float(found.group(1))
    return value if 0 < value <= MAX_POINTS else None


def comment_verdict(agent: str | None, corrected: float | None) -> Verdict:
    """A reply naming points corrects the estimate; one to a flag (a stand-up nudge, a dependency
    alert) calls the flag a false alarm; anything else is plain disagreement."""
    if corrected is not None:
        return Verdict.CORRECTION
    if agent in ("standup", "dependencies"):
        return Verdict.FALSE_ALARM
    return Verdict.DISAGREE


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def field_verdict(field: str, old: Any, new: Any) -> Verdict:
    """A person's change of an AI field: Risk Score raised across the flag line is a miss, lowered
    across it a false alarm; clearing Impediments says the blocker was not one; else a correction."""
    folded = field.strip().casefold()
    if folded == RISK_SCORE.casefold():
        before, after = _number(old), _number(new)
        was_flag = before is not None and before >= RISK_FLAG_LINE
        now_flag = after is not None and after >= RISK_FLAG_LINE
        if now_flag and not was_flag:
            return Verdict.MISS
        if was_flag and not now_flag:
            return Verdict.FALSE_ALARM
    if folded == IMPEDIMENTS.casefold() and old and not new:
        return Verdict.FALSE_ALARM
    return Verdict.CORRECTION


def is_points_field(field: str | None) -> bool:
    return field is not None and field.strip().casefold() == ESTIMATED_STORY_POINTS.casefold()
