"""The accuracy metrics themselves, shared by the scorecard and the replay scorers (one place)."""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence

from pydantic import BaseModel


def mae(errors: Sequence[float]) -> float | None:
    return statistics.fmean(abs(e) for e in errors) if errors else None


def bias(errors: Sequence[float]) -> float | None:
    return statistics.fmean(errors) if errors else None


def mdae(errors: Sequence[float]) -> float | None:
    return statistics.median(abs(e) for e in errors) if errors else None


def precision_recall(chosen: set[str], truth: set[str]) -> tuple[float | None, float | None, int]:
    hits = len(chosen & truth)
    return (hits / len(chosen) if chosen else None, hits / len(truth) if truth else None, hits)


class FlagTally:
    """Micro-averaged hits of flags over rounds (a round: one run's flags against its population)."""

    def __init__(self) -> None:
        self.flagged = self.hits = self.truth = self.sprints = 0

    def add(self, flagged: set[str], truth: set[str]) -> None:
        self.sprints += 1
        self.flagged += len(flagged)
        self.truth += len(truth)
        self.hits += len(flagged & truth)

    @property
    def rounds(self) -> int:
        return self.sprints

    @property
    def precision(self) -> float | None:
        return self.hits / self.flagged if self.flagged else None

    @property
    def recall(self) -> float | None:
        return self.hits / self.truth if self.truth else None

    @property
    def f1(self) -> float | None:
        p, rc = self.precision, self.recall
        return 2 * p * rc / (p + rc) if p and rc else None


class EstimateStats(BaseModel):
    n: int
    mae: float | None
    bias: float | None  # mean(estimate − actual): positive = estimates were high
    mdae: float | None
    # Share of the pairs whose actual fell inside [low, high] (a pair without a range counts as
    # outside); None when no pair had a range (the planner's capacity is a single number).
    within_range: float | None


def estimate_stats(pairs: Iterable[tuple[float, float, float | None, float | None]]) -> EstimateStats:
    """(estimate, actual, low, high) pairs → error statistics."""
    rows = list(pairs)
    errors = [e - a for e, a, _, _ in rows]
    inside = sum(1 for _, a, lo, hi in rows if lo is not None and hi is not None and lo <= a <= hi)
    return EstimateStats(
        n=len(rows),
        mae=mae(errors),
        bias=bias(errors),
        mdae=mdae(errors),
        within_range=inside / len(rows)
        if any(lo is not None and hi is not None for *_, lo, hi in rows)
        else None,
    )


class BandStats(BaseModel):
    n: int
    inside: float | None  # share of actuals inside [P10, P90] (nominal 80%)
    below: float | None
    above: float | None
    p50_mae: float | None


def band_stats(bands: Iterable[tuple[float, float, float, float]]) -> BandStats:
    """(p10, p50, p90, actual) → calibration of the band and the P50's error."""
    rows = list(bands)
    n = len(rows)
    if not n:
        return BandStats(n=0, inside=None, below=None, above=None, p50_mae=None)
    return BandStats(
        n=n,
        inside=sum(1 for p10, _, p90, a in rows if p10 <= a <= p90) / n,
        below=sum(1 for p10, _, _, a in rows if a < p10) / n,
        above=sum(1 for _, _, p90, a in rows if a > p90) / n,
        p50_mae=statistics.fmean(abs(p50 - a) for _, p50, _, a in rows),
    )
