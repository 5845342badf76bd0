"""AI Priority Score formula and risk rules."""

from __future__ import annotations

from tools.refinement.priority import priority_score
from tools.refinement.risk import assess_risk, flag_for

CLEAR = (
    "Add a retry with exponential backoff to the sync client so transient network errors stop failing uploads"
)


def test_priority_formula_values() -> None:
    top = priority_score(business_value=100, priority="Critical", age_days=90, dependents=5, risk=0)
    assert top.score == 100.0
    mid = priority_score(business_value=50, priority="Medium", age_days=0, dependents=0, risk=0)
    assert mid.score == round(100 * (0.4 * 0.5 + 0.25 * 0.5), 1)
    risky = priority_score(business_value=50, priority="Medium", age_days=0, dependents=0, risk=100)
    assert risky.score == round(mid.score * 0.7, 1)


def test_priority_rises_with_value_dependents_and_age() -> None:
    base = dict(business_value=40.0, priority="High", age_days=10.0, dependents=0, risk=20.0)
    s0 = priority_score(**base).score  # type: ignore[arg-type]
    assert priority_score(**{**base, "business_value": 80.0}).score > s0  # type: ignore[arg-type]
    assert priority_score(**{**base, "dependents": 3}).score > s0  # type: ignore[arg-type]
    assert priority_score(**{**base, "age_days": 60.0}).score > s0  # type: ignore[arg-type]


def test_clean_task_is_low_risk() -> None:
    r = assess_risk(
        name="Retry uploads", notes=CLEAR, points=3, low=2, high=5, confidence=0.8,
        has_criteria=True, open_dependencies=0, blocked=False,
    )  # fmt: skip
    assert r.score == 0 and r.flag == "low" and r.reasons == []


def test_every_rule_fires_with_reasons() -> None:
    r = assess_risk(
        name="Investigate payments", notes="tbd", points=13, low=5, high=21, confidence=0.2,
        has_criteria=False, open_dependencies=4, blocked=True,
    )  # fmt: skip
    codes = {x.code for x in r.reasons}
    assert codes == {
        "big_estimate",
        "wide_range",
        "low_confidence",
        "no_criteria",
        "many_dependencies",
        "blocked",
        "vague",
    }
    assert r.score == 100 and r.flag == "high"
    assert flag_for(24) == "low" and flag_for(25) == "medium" and flag_for(50) == "high"
