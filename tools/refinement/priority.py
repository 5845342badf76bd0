"""AI Priority Score (0–100, one decimal) for a backlog item.

    score = 100 × (0.40·value + 0.25·priority + 0.15·age + 0.20·dependents) × (1 − 0.3·risk/100)

* value      = Business Value / 100 (clamped to 0..1; 0.5 when unset)
* priority   = Critical 1.0, High 0.75, Medium 0.5, Low 0.25 (0.5 when unset)
* age        = min(days since creation, 90) / 90 (an item waiting longer rises slowly)
* dependents = min(open tasks waiting on it, 5) / 5 (unblocking others is worth more)
* risk       = the Risk Score 0..100: a risky item is discounted by up to 30 % so safe,
               valuable work comes first (the risk stays visible in its own field)
"""

from __future__ import annotations

from pydantic import BaseModel

WEIGHTS = {"value": 0.40, "priority": 0.25, "age": 0.15, "dependents": 0.20}
PRIORITY_LEVEL = {"critical": 1.0, "high": 0.75, "medium": 0.5, "low": 0.25}
AGE_CAP_DAYS = 90.0
DEPENDENTS_CAP = 5.0
RISK_DISCOUNT = 0.3


class PriorityScore(BaseModel):
    score: float
    components: dict[str, float]
    formula: str = "100 × (0.40·value + 0.25·priority + 0.15·age + 0.20·dependents) × (1 − 0.3·risk/100)"


def priority_score(
    *,
    business_value: float | None,
    priority: str | None,
    age_days: float | None,
    dependents: int,
    risk: float,
) -> PriorityScore:
    value = 0.5 if business_value is None else min(1.0, max(0.0, business_value / 100.0))
    level = PRIORITY_LEVEL.get((priority or "").strip().lower(), 0.5)
    age = 0.0 if age_days is None else min(AGE_CAP_DAYS, max(0.0, age_days)) / AGE_CAP_DAYS
    deps = min(DEPENDENTS_CAP, max(0, dependents)) / DEPENDENTS_CAP
    parts = {"value": value, "priority": level, "age": age, "dependents": deps}
    base = sum(WEIGHTS[k] * v for k, v in parts.items())
    discount = 1.0 - RISK_DISCOUNT * min(100.0, max(0.0, risk)) / 100.0
    return PriorityScore(
        score=round(100.0 * base * discount, 1),
        components={**{k: round(v, 3) for k, v in parts.items()}, "risk_discount": round(discount, 3)},
    )
