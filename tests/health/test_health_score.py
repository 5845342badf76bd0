import pytest

from tools.health import SprintFacts, health_score, health_trend


def _sprint(i: int, done: float = 38, blocked: int = 1, mood: float = 0.2) -> SprintFacts:
    return SprintFacts(
        name=f"Sprint {i}",
        committed_points=40,
        completed_points=done,
        items=12,
        carried_items=2,
        blocked_items=blocked,
        blocked_days=[2.0] * blocked,
        sentiment=[mood, mood, -mood],
    )


def test_components_sum_to_the_score() -> None:
    h = health_score([_sprint(i) for i in range(6)])
    assert h.score == pytest.approx(sum(c.contribution for c in h.components), abs=1e-9)
    assert sum(c.weight for c in h.components) == pytest.approx(1.0, abs=1e-3)
    assert {c.name for c in h.components} == {
        "completion",
        "carry_over",
        "blockers",
        "forecast_risk",
        "sentiment",
    }
    assert 0 <= h.score <= 100


def test_missing_component_is_left_out_and_weights_renormalised() -> None:
    facts = [_sprint(i).model_copy(update={"sentiment": []}) for i in range(4)]
    h = health_score(facts)
    sent = next(c for c in h.components if c.name == "sentiment")
    assert sent.value is None and sent.contribution == 0 and sent.weight == 0
    assert h.score == pytest.approx(sum(c.contribution for c in h.components), abs=1e-9)


def test_worse_sprints_lower_the_score_and_trend() -> None:
    good = health_score([_sprint(i) for i in range(4)])
    bad = health_score([_sprint(i, done=15, blocked=6, mood=-0.8) for i in range(4)])
    assert bad.score < good.score and bad.band != "healthy"
    declining = [
        _sprint(0),
        _sprint(1),
        _sprint(2, done=25, blocked=4),
        _sprint(3, done=12, blocked=6, mood=-0.9),
    ]
    trend = health_trend(declining)
    assert trend.slope_per_sprint < 0 and len(trend.history) == 4
    assert trend.history[-1][1] == trend.current.score


def test_unknown_weight_is_rejected() -> None:
    with pytest.raises(ValueError):
        health_score([_sprint(0)], weights={"velocity": 1.0})
