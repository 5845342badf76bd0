"""Robust aggregation helpers: weighted median/quantiles and snapping to a team's point scale."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

# A history with at most this many distinct values is treated as using a discrete scale (Fibonacci etc.).
MAX_SCALE_VALUES = 20
# In a history this long, a value given to fewer than max(2, 1%) of the tasks is a one-off (a typo, a
# "10" on a Fibonacci board), not part of the team's scale; shorter histories keep every value.
SCALE_MIN_HISTORY = 100
SCALE_MIN_SHARE = 0.01


def weighted_quantile(values: FloatArray, weights: FloatArray, q: float) -> float:
    """Lower weighted quantile: the smallest value whose cumulative weight reaches q of the total."""
    if values.size == 0:
        raise ValueError("no values")
    order = np.argsort(values, kind="stable")
    v, w = values[order], np.clip(weights[order], 1e-12, None)
    cum = np.cumsum(w)
    pos = int(np.searchsorted(cum, q * cum[-1]))
    return float(v[min(pos, v.size - 1)])


def weighted_median(values: FloatArray, weights: FloatArray) -> float:
    return weighted_quantile(values, weights, 0.5)


def detect_scale(points: Sequence[float]) -> tuple[float, ...] | None:
    """The team's scale as the values it really uses, or None when points look continuous.

    Snapping onto a one-off value moves estimates to points the team hardly ever gives, so in a long
    history the rare values are left out (see SCALE_MIN_SHARE)."""
    counts = Counter(float(p) for p in points)
    if not counts or len(counts) > MAX_SCALE_VALUES:
        return None
    values = sorted(counts)
    if len(points) >= SCALE_MIN_HISTORY:
        floor = max(2.0, SCALE_MIN_SHARE * len(points))
        values = [v for v in values if counts[v] >= floor] or values
    return tuple(values)


def snap(value: float, scale: Sequence[float] | None) -> float:
    if not scale:
        return float(value)
    arr = np.asarray(scale, dtype=float)
    return float(arr[int(np.abs(arr - value).argmin())])
