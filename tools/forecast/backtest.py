"""Walk-forward backtest: which forecast (points or throughput) has been most accurate for *this* team?

Common target, so the two methods' errors are in the same unit: **sprints to finish a backlog**.
At each cut point t (0-based index of the first future sprint; t >= warm-up), the "remaining
backlog" is the work the team really finished in sprints t .. t+H-1: R_points = their completed
points, R_items = their completed item counts. So its true completion time is exactly H sprints.
Each method forecasts, from sprints < t only (the points Monte Carlo from completed points, the
throughput Monte Carlo from completed item counts; same sampler, same seed), how many sprints
that backlog takes: a distribution of fractional completion times (interpolated within the
finishing sprint, see montecarlo.completion_times). Scores over all cut points:

- MAE: mean |P50 − H| in sprints (lower is better; directly comparable across methods);
- relative error: MAE / H (share of the horizon);
- calibration: share of cut points with H inside [P10, P90] (nominal 80%);
- bias: mean (P50 − H): positive = the method was pessimistic.

A cut point is used only when both methods have a defined target (all H future sprints have points
and an item count recorded, and both totals are positive), so both are scored on the same backlogs.

Choice: the lower MAE; when the MAEs are within `TIE_SPRINTS` the better-calibrated method (closer
to 80%); if still tied, points (the incumbent). With fewer than `MIN_FORECASTS` scored cut points,
or no item counts, points are used and the reason says so; with no points recorded at all but item
counts present, throughput is used (a points forecast would be zero).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import numpy as np
from pydantic import BaseModel

from tools.forecast.montecarlo import MIN_SPRINTS, completion_times, simulate

Method = Literal["points", "throughput"]
METHODS: tuple[Method, ...] = ("points", "throughput")
DEFAULT_HORIZON = 3  # sprints of backlog per cut point: the typical "when is this done" question
WARM_UP = MIN_SPRINTS  # the Monte Carlo needs at least this many sprints for a normal-basis range
MIN_FORECASTS = 5  # fewer scored cut points than this cannot rank two methods
TIE_SPRINTS = 0.01  # MAEs closer than this are a tie (well below what the P50 can resolve)
NOMINAL_COVERAGE = 0.8  # P10–P90
BACKTEST_RUNS = 2000


class CutForecast(BaseModel):
    """One method's forecast at one cut point."""

    p10: float
    p50: float
    p90: float
    remaining: float  # the backlog in this method's unit


class CutPoint(BaseModel):
    cut: int  # index of the first forecast sprint (sprints < cut were known)
    actual: int  # H: the backlog really took this many sprints
    forecasts: dict[str, CutForecast]


class MethodScore(BaseModel):
    method: Method
    forecasts: int
    mae_sprints: float | None
    relative_error: float | None  # MAE / H
    calibration: float | None  # share of actuals inside [P10, P90]
    bias_sprints: float | None  # mean (P50 - actual)


class Backtest(BaseModel):
    sprints: int  # length of the history given
    horizon: int
    warm_up: int
    forecasts: int  # scored cut points (the same for both methods)
    scores: dict[str, MethodScore]
    chosen: Method
    reason: str
    forced: bool = False
    cuts: list[CutPoint]

    def describe(self) -> str:
        """One line for humans: which method, and the backtest numbers that chose it."""
        return f"{self.chosen}: {self.reason}"


def _usable(v: float | None) -> bool:
    return v is not None and not (isinstance(v, float) and math.isnan(v))


def _sum(values: Sequence[float | None]) -> float | None:
    if not all(_usable(v) for v in values):
        return None
    return float(sum(v for v in values if v is not None))


def _forecast(
    history: Sequence[float | None], remaining: float, horizon: int, *, runs: int, seed: int
) -> CutForecast:
    # Simulate well past H so a slow forecast is measured, not cut off at the horizon.
    sims, _ = simulate(history, max(4 * horizon, horizon + 8), runs=runs, seed=seed)
    times = completion_times(sims, remaining)
    p10, p50, p90 = (float(np.percentile(times, q)) for q in (10, 50, 90))
    return CutForecast(p10=round(p10, 3), p50=round(p50, 3), p90=round(p90, 3), remaining=remaining)


def _score(method: Method, cuts: list[CutPoint], horizon: int) -> MethodScore:
    if not cuts:
        return MethodScore(
            method=method,
            forecasts=0,
            mae_sprints=None,
            relative_error=None,
            calibration=None,
            bias_sprints=None,
        )
    err = [c.forecasts[method].p50 - c.actual for c in cuts]
    inside = [c.forecasts[method].p10 <= c.actual <= c.forecasts[method].p90 for c in cuts]
    mae = float(np.mean(np.abs(err)))
    return MethodScore(
        method=method,
        forecasts=len(cuts),
        mae_sprints=round(mae, 3),
        relative_error=round(mae / horizon, 3),
        calibration=round(float(np.mean(inside)), 3),
        bias_sprints=round(float(np.mean(err)), 3),
    )


def _numbers(s: MethodScore) -> str:
    return (
        f"{s.method} P50 off by {s.mae_sprints:.2f} sprints on average, "
        f"{(s.calibration or 0.0):.0%} inside P10–P90"
    )


def choose(scores: dict[str, MethodScore], forecasts: int, horizon: int) -> tuple[Method, str]:
    """The method with the lowest MAE (tie: better calibration, then points) and why."""
    if forecasts < MIN_FORECASTS:
        return "points", (
            f"too little history to compare methods ({forecasts} backtest forecast"
            f"{'' if forecasts == 1 else 's'} possible, {MIN_FORECASTS} needed): using points, the default"
        )
    p, t = scores["points"], scores["throughput"]
    assert p.mae_sprints is not None and t.mae_sprints is not None

    def basis(first: MethodScore, second: MethodScore) -> str:
        return (
            f"walk-forward backtest over {forecasts} past {horizon}-sprint backlogs: "
            f"{_numbers(first)}; {_numbers(second)}"
        )

    if abs(p.mae_sprints - t.mae_sprints) >= TIE_SPRINTS:
        if p.mae_sprints < t.mae_sprints:
            return "points", f"lowest error in a {basis(p, t)}"
        return "throughput", f"lowest error in a {basis(t, p)}"
    gap_p = abs((p.calibration or 0.0) - NOMINAL_COVERAGE)
    gap_t = abs((t.calibration or 0.0) - NOMINAL_COVERAGE)
    if gap_t < gap_p:
        return "throughput", f"errors tie, better calibrated in a {basis(t, p)}"
    why = (
        "errors tie, better calibrated"
        if gap_p < gap_t
        else "errors and calibration tie, points is the default"
    )
    return "points", f"{why} in a {basis(p, t)}"


def walk_forward(
    points: Sequence[float | None],
    items: Sequence[float | None],
    *,
    horizon: int = DEFAULT_HORIZON,
    warm_up: int = WARM_UP,
    runs: int = BACKTEST_RUNS,
    seed: int = 0,
) -> Backtest:
    """Backtest both methods on one team's history (oldest first; `points[i]` and `items[i]` are the
    same sprint's completed points and completed item count, None where not recorded)."""
    if len(points) != len(items):
        raise ValueError("points and items must describe the same sprints")
    if horizon < 1 or warm_up < 1:
        raise ValueError("horizon and warm_up must be at least 1")
    cuts: list[CutPoint] = []
    for t in range(warm_up, len(points) - horizon + 1):
        r_points, r_items = _sum(points[t : t + horizon]), _sum(items[t : t + horizon])
        if not r_points or not r_items:  # undefined target for one method: skip for both (paired)
            continue
        # Common random numbers (same seed per cut): differences come from the data, not the dice.
        cuts.append(
            CutPoint(
                cut=t,
                actual=horizon,
                forecasts={
                    "points": _forecast(points[:t], r_points, horizon, runs=runs, seed=seed + t),
                    "throughput": _forecast(items[:t], r_items, horizon, runs=runs, seed=seed + t),
                },
            )
        )
    scores: dict[str, MethodScore] = {m: _score(m, cuts, horizon) for m in METHODS}
    has_points = any(_usable(v) and (v or 0) > 0 for v in points)
    has_items = any(_usable(v) and (v or 0) > 0 for v in items)
    if not has_items:
        chosen: Method = "points"
        reason = "no completed-item counts recorded: using points"
    elif not has_points:
        chosen, reason = "throughput", "no completed points recorded (nothing estimated): using item counts"
    else:
        chosen, reason = choose(scores, len(cuts), horizon)
    return Backtest(
        sprints=len(points),
        horizon=horizon,
        warm_up=warm_up,
        forecasts=len(cuts),
        scores=scores,
        chosen=chosen,
        reason=reason,
        cuts=cuts,
    )


def force(bt: Backtest, method: Method) -> Backtest:
    """The same backtest with `method` imposed by the caller; the reason keeps what the data said."""
    if method == bt.chosen:
        return bt.model_copy(
            update={"forced": True, "reason": f"requested; the backtest agrees ({bt.reason})"}
        )
    return bt.model_copy(
        update={
            "chosen": method,
            "forced": True,
            "reason": f"requested; the backtest would pick {bt.chosen} ({bt.reason})",
        }
    )
