"""Robust aggregation helpers: weighted median/quantiles and snapping to a team's point scale."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

# A history with at most this many distinct values is treated as using a discrete scale (Fibonacci etc.).
MAX_SCALE_VALUES = 20


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
    """The team's scale as the distinct values used, or None when points look continuous."""
    distinct = sorted(set(points))
    if not distinct or len(distinct) > MAX_SCALE_VALUES:
        return None
    return tuple(float(v) for v in distinct)


def snap(value: float, scale: Sequence[float] | None) -> float:
    if not scale:
        return float(value)
    arr = np.asarray(scale, dtype=float)
    return float(arr[int(np.abs(arr - value).argmin())])
