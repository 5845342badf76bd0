"""Pure portfolio-health scoring: components, weights, score and trend."""

from tools.health.score import (
    DEFAULT_WEIGHTS,
    Component,
    HealthScore,
    HealthTrend,
    SprintFacts,
    health_score,
    health_trend,
)

__all__ = [
    "DEFAULT_WEIGHTS",
    "Component",
    "HealthScore",
    "HealthTrend",
    "SprintFacts",
    "health_score",
    "health_trend",
]
