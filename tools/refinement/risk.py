"""Risk Score (0–100) and Risk Flag with reasons, from what refinement can see before work starts.

Each rule adds its weight when it fires; the score is the capped sum. Flag: high ≥ 50,
medium ≥ 25, else low.

| rule | weight |
|---|---:|
| big estimate (≥ 13 points; ≥ 8 gives 15) | 25 |
| wide estimate range (high ≥ 3 × low, or high − low ≥ 8) | 15 |
| low estimator confidence (< 0.35) | 10 |
| no acceptance criteria | 20 |
| many open dependencies (≥ 3) | 15 |
| blocked (Status "Blocked" or an open dependency marked blocked-by) | 20 |
| vague wording (< 12 words of description, or vague terms: "investigate", "tbd", "etc", …) | 10 |
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, Field

Flag = Literal["low", "medium", "high"]
VAGUE_TERMS = ("investigate", "tbd", "etc", "somehow", "various", "maybe", "some issues", "look into", "???")
_WORDS = re.compile(r"[A-Za-z0-9']+")
RULES_DOC = (__doc__ or "").strip()


class RiskReason(BaseModel):
    code: str
    weight: int
    text: str


class RiskAssessment(BaseModel):
    score: int = Field(ge=0, le=100)
    flag: Flag
    reasons: list[RiskReason]


def flag_for(score: int) -> Flag:
    return "high" if score >= 50 else "medium" if score >= 25 else "low"


def vague_terms(name: str, notes: str) -> list[str]:
    text = f" {name} {notes} ".lower()
    return [t for t in VAGUE_TERMS if re.search(rf"(?<![a-z]){re.escape(t)}(?![a-z])", text)]


def assess_risk(
    *,
    name: str,
    notes: str,
    points: float | None,
    low: float | None,
    high: float | None,
    confidence: float | None,
    has_criteria: bool,
    open_dependencies: int,
    blocked: bool,
) -> RiskAssessment:
    reasons: list[RiskReason] = []

    def add(code: str, weight: int, text: str) -> None:
        reasons.append(RiskReason(code=code, weight=weight, text=text))

    if points is not None and points >= 13:
        add("big_estimate", 25, f"big estimate ({points:g} points): consider splitting")
    elif points is not None and points >= 8:
        add("big_estimate", 15, f"large estimate ({points:g} points)")
    if low is not None and high is not None and (high - low >= 8 or (low > 0 and high >= 3 * low)):
        add("wide_range", 15, f"wide estimate range ({low:g}–{high:g} points)")
    if confidence is not None and confidence < 0.35:
        add("low_confidence", 10, f"few similar past tasks (confidence {confidence:.2f})")
    if not has_criteria:
        add("no_criteria", 20, "no acceptance criteria")
    if open_dependencies >= 3:
        add("many_dependencies", 15, f"depends on {open_dependencies} unfinished tasks")
    if blocked:
        add("blocked", 20, "blocked (Status Blocked or an unfinished blocking task)")
    words = len(_WORDS.findall(notes or ""))
    terms = vague_terms(name, notes or "")
    if words < 12 or terms:
        detail = f"vague terms: {', '.join(terms)}" if terms else f"only {words} words of description"
        add("vague", 10, f"vague wording ({detail})")
    score = min(100, sum(r.weight for r in reasons))
    return RiskAssessment(score=score, flag=flag_for(score), reasons=reasons)
