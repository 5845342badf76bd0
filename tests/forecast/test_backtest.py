"""Walk-forward backtest: picks the method that was more accurate on the team's own history."""

from __future__ import annotations

import numpy as np
import pytest

from tools.forecast.backtest import MIN_FORECASTS, force, walk_forward


def _teams(n: int = 20, seed: int = 1) -> tuple[list[float], list[float]]:
    """Ten items every sprint, but item sizes vary a lot: steady throughput, noisy points."""
    rng = np.random.default_rng(seed)
    items = [10.0] * n
    points = [float(sum(rng.choice([1, 2, 3, 5, 8, 13], size=10))) for _ in range(n)]
    return points, items


def test_steady_throughput_picks_throughput() -> None:
    points, items = _teams()
    bt = walk_forward(points, items, horizon=3)
    assert bt.forecasts == 20 - 3 - 3 + 1
    t, p = bt.scores["throughput"], bt.scores["points"]
    assert t.mae_sprints is not None and p.mae_sprints is not None
    assert t.mae_sprints < p.mae_sprints
    assert bt.chosen == "throughput" and not bt.forced
    assert bt.reason.startswith("lowest error") and "throughput P50 off by" in bt.reason
    # the cut points only ever saw the past: each forecast's backlog is the next H sprints' real output
    c = bt.cuts[0]
    assert c.cut == 3 and c.forecasts["throughput"].remaining == 30 and c.actual == 3
    assert c.forecasts["points"].remaining == sum(points[3:6])


def test_steady_points_picks_points() -> None:
    points, items = _teams()
    bt = walk_forward(items, points, horizon=1)  # roles swapped: points steady, item counts noisy
    assert bt.chosen == "points" and "lowest error" in bt.reason
    assert bt.scores["points"].mae_sprints == pytest.approx(0.0)


def test_identical_histories_tie_and_fall_to_points() -> None:
    points, _ = _teams()
    bt = walk_forward(points, list(points))
    assert bt.scores["points"] == bt.scores["throughput"].model_copy(update={"method": "points"})
    assert bt.chosen == "points" and "tie" in bt.reason


def test_too_little_history_falls_back_to_points_and_says_why() -> None:
    points, items = _teams(n=8)
    bt = walk_forward(points, items, horizon=3)
    assert bt.forecasts < MIN_FORECASTS
    assert bt.chosen == "points" and "too little history" in bt.reason


def test_no_points_recorded_uses_items_and_no_items_uses_points() -> None:
    _, items = _teams()
    assert walk_forward([0.0] * len(items), items).chosen == "throughput"
    no_items = walk_forward([30.0] * 12, [None] * 12)
    assert no_items.chosen == "points" and "no completed-item counts" in no_items.reason


def test_forcing_keeps_what_the_data_said() -> None:
    points, items = _teams()
    bt = force(walk_forward(points, items), "points")
    assert bt.chosen == "points" and bt.forced
    assert "backtest would pick throughput" in bt.reason


def test_missing_sprints_skip_the_cut_for_both_methods() -> None:
    full, items = _teams()
    points: list[float | None] = [None if i == 10 else v for i, v in enumerate(full)]
    bt = walk_forward(points, items, horizon=1)
    assert all(c.cut != 10 for c in bt.cuts)
    assert bt.scores["points"].forecasts == bt.scores["throughput"].forecasts == bt.forecasts
    with pytest.raises(ValueError):
        walk_forward([1.0], [1.0, 2.0])
