"""Issue 22: ``embeddings-recent-checked`` weights recent neighbours up and replays that same rule in its
history check, so a team whose sizes drifted keeps its (recent) neighbours instead of falling back."""

from __future__ import annotations

import numpy as np

from tools.estimation import CONFIGS, EstimatorConfig, PastTask, StoryPointEstimator
from tools.estimation.aggregate import snap

# the named configuration's decay and check, on the n-gram path (no model files needed here)
RECENT = CONFIGS["embeddings-recent-checked"].model_copy(
    update={"embeddings": False, "duplicate_similarity": None}
)
NO_DECAY = RECENT.model_copy(update={"recency_decay": None})


def _drifted(n: int = 200) -> list[PastTask]:
    """Two topics whose sizes changed half-way: alpha 8 -> 2, beta 1 -> 5 (a new team, a new scale)."""
    out = []
    for i in range(n):
        topic = ("alpha", "beta")[i % 2]
        old = i < n // 2
        points = {"alpha": (8.0, 2.0), "beta": (1.0, 5.0)}[topic][0 if old else 1]
        out.append(
            PastTask(
                id=f"D{i}",
                title=f"{topic} {topic} widget {i % 7}",
                description=f"{topic} part",
                points=points,
            )
        )
    return out


def _fitted(config: EstimatorConfig) -> StoryPointEstimator:
    est = StoryPointEstimator(config)
    est.add(_drifted())
    return est


def test_the_recent_configuration_has_decay_and_check() -> None:
    config = CONFIGS["embeddings-recent-checked"]
    assert config.embeddings and config.history_check and config.recency_decay is not None
    assert CONFIGS["embeddings-recent"].recency_decay == config.recency_decay
    assert not CONFIGS["embeddings-recent"].history_check


def test_recent_neighbours_win_the_check_where_old_ones_lose() -> None:
    query = [("alpha alpha widget 3", "alpha part")]
    recent, plain = _fitted(RECENT), _fitted(NO_DECAY)
    got, old = recent.estimate_many(query)[0], plain.estimate_many(query)[0]
    assert recent.checked is not None and recent.checked.mean_ratio is not None
    assert plain.checked is not None and plain.checked.mean_ratio is not None
    # the check replays the configured decay: with it the neighbours beat the median, without it they lose
    assert recent.checked.mean_ratio < 1.0 < plain.checked.mean_ratio
    assert not recent.checked.fell_back and plain.checked.fell_back
    assert got.points == 2.0  # the recent alpha size
    history_median = float(np.median([t.points for t in _drifted()]))
    assert old.raw == history_median and old.points == snap(history_median, plain.scale())  # fell back
