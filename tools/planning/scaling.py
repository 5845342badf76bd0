"""Integer scaling shared by the CP-SAT models (CP-SAT only takes integer coefficients)."""

from __future__ import annotations

import math
from collections.abc import Sequence

SCORE_INT_MAX = 1e9
MAX_POINT_DECIMALS = 4


def quantize_scores(scores: Sequence[float]) -> tuple[list[int], float]:
    """Integer scores used by the solver and the power of ten they were multiplied by.

    The scale is the largest power of ten keeping max|score| * scale <= 1e9, so every item's
    rounding error is at most 0.5 / scale (a relative 5e-9 of the largest score) and sums over
    thousands of items stay far inside int64."""
    biggest = max((abs(s) for s in scores), default=0.0)
    if biggest == 0.0:
        return [0 for _ in scores], 1.0
    scale = 10.0 ** math.floor(math.log10(SCORE_INT_MAX / biggest))
    return [round(s * scale) for s in scores], scale


def point_scale(points: Sequence[float]) -> int:
    """Smallest power of ten (up to 10^4) that makes every value integral; capacity checks on the
    scaled integers are then exact (values with more decimals are rounded to 1e-4)."""
    for decimals in range(MAX_POINT_DECIMALS + 1):
        factor: int = 10**decimals  # int ** int is typed Any (negative exponents give a float)
        if all(abs(p * factor - round(p * factor)) < 1e-9 for p in points):
            return factor
    return int(10**MAX_POINT_DECIMALS)
