"""A guard chosen on the team's own newest history: do the neighbours beat the history median there?

The estimator replays itself on its index: it cuts the history (oldest first) at 60, 70, 80 and 90 % of its
length, estimates the next 10 % from the tasks before each cut, and compares that MAE with the MAE of the
median of the same tasks. When the neighbours lose on average, estimates fall back to the history median
(shrinkage 0; a near-duplicate still counts). The newest part of the history is used because it is the most
like the tasks still to come; the cuts are the same rolling origins the selection eval uses
(evals/storypoints_select.py), moved towards the present.

Similarities come from the current index (its term frequencies over the whole history): the check looks at
past tasks only, so nothing of the tasks to estimate is used.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from pydantic import BaseModel, ConfigDict

from tools.estimation.aggregate import detect_scale, snap, weighted_median

CHECK_ORIGINS = (0.6, 0.7, 0.8, 0.9)
CHECK_WINDOW = 0.1
MIN_CHECK_FOLD = 10  # a fold with fewer tasks to estimate (or indexed) is skipped: its ratio is noise
_EPS = 1e-6


class HistoryCheck(BaseModel):
    """The outcome of one check: the mean fold ratio (kNN MAE / median MAE) and the shrinkage to use."""

    model_config = ConfigDict(frozen=True)

    n_indexed: int
    folds: int
    mean_ratio: float | None  # None: the history was too short for any fold
    shrinkage: float

    @property
    def fell_back(self) -> bool:
        return self.mean_ratio is not None and self.shrinkage == 0.0


class FoldRule(BaseModel):
    """What the estimator does with a row of similarities (the same rule as its estimates)."""

    model_config = ConfigDict(frozen=True)

    shrinkage: float
    duplicate_similarity: float | None
    recency_decay: float | None


def recency(n: int, decay: float | None) -> np.ndarray:
    """The estimator's recency factor for an index of n tasks (1 for the newest)."""
    if decay is None or n == 0:
        return np.ones(n)
    age = (n - 1 - np.arange(n)) / n
    return np.exp(-age / decay)


def fold_mae(
    sims: np.ndarray, points: np.ndarray, truth: np.ndarray, k: int, rule: FoldRule
) -> tuple[float, float]:
    """MAE of the kNN estimates and of the median, for queries ``sims`` (rows) against ``points``."""
    prior = float(np.median(points))
    scale = detect_scale(points.tolist())
    ranks = sims * recency(len(points), rule.recency_decay)[None, :]
    order = np.argsort(-ranks, axis=1, kind="stable")[:, :k]
    preds = []
    for row, rank, top in zip(sims, ranks, order, strict=True):
        knn = weighted_median(points[top], np.clip(rank[top], 0.0, None) + _EPS)
        threshold = rule.duplicate_similarity
        shrinkage = 1.0 if threshold is not None and row[top[0]] >= threshold else rule.shrinkage
        preds.append(snap(prior + shrinkage * (knn - prior), scale))
    # the baseline is the plain median, as in the selection eval
    return float(np.abs(np.array(preds) - truth).mean()), float(np.abs(prior - truth).mean())


def check_history(
    points: np.ndarray,
    similarities: Callable[[slice], np.ndarray],
    neighbours_for: Callable[[int], int],
    rule: FoldRule,
) -> HistoryCheck:
    """Run the rolling-origin check on an index whose tasks are in time order.

    ``similarities(rows)``: the similarity of the indexed tasks ``rows`` to every indexed task;
    ``neighbours_for(n)``: k for an index of n tasks."""
    n = len(points)
    size = round(CHECK_WINDOW * n)
    ratios: list[float] = []
    for origin in CHECK_ORIGINS:
        cut = round(origin * n)
        end = min(n, cut + size)
        if cut < MIN_CHECK_FOLD or end - cut < MIN_CHECK_FOLD:
            continue
        sims = similarities(slice(cut, end))[:, :cut]
        knn_mae, median_mae = fold_mae(sims, points[:cut], points[cut:end], neighbours_for(cut), rule)
        if median_mae > 0:
            ratios.append(knn_mae / median_mae)
        else:
            ratios.append(1.0 if knn_mae == 0 else float("inf"))
    if not ratios:
        return HistoryCheck(n_indexed=n, folds=0, mean_ratio=None, shrinkage=rule.shrinkage)
    mean = float(np.mean(ratios))
    return HistoryCheck(
        n_indexed=n, folds=len(ratios), mean_ratio=mean, shrinkage=0.0 if mean > 1.0 else rule.shrinkage
    )
