"""Story-point estimation from the team's own completed tasks (offline, light)."""

from tools.estimation.estimator import Refiner, StoryPointEstimator
from tools.estimation.models import (
    BEST,
    CONFIGS,
    LIGHT,
    Estimate,
    EstimatorConfig,
    Neighbour,
    PastTask,
    TuningResult,
)

__all__ = [
    "BEST",
    "CONFIGS",
    "LIGHT",
    "Estimate",
    "EstimatorConfig",
    "Neighbour",
    "PastTask",
    "Refiner",
    "StoryPointEstimator",
    "TuningResult",
]
