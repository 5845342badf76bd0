"""Story-point estimation from the team's own completed tasks (kNN; optional model few-shot blend)."""

from tools.estimation.estimator import StoryPointEstimator
from tools.estimation.fewshot import Refiner
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
