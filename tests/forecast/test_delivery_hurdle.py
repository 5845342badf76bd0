"""The two-part (hurdle) delivery model: P(delivers nothing), then quantiles of a positive delivery."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from tests.forecast.test_delivery_model import sprint
from tools.forecast.delivery import HURDLE_VARIANTS, VARIANTS, DeliveryModel, build_features
from tools.forecast.delivery_hurdle import HurdleModel, conditional_quantile, weighted_quantile

RATIO = next(v for v in VARIANTS if v.target == "ratio")
THRESHOLD, MIXTURE = HURDLE_VARIANTS[0], HURDLE_VARIANTS[1]


@pytest.fixture(autouse=True)
def _one_thread() -> Iterator[None]:
    import sklearn.ensemble  # noqa: F401  # loaded first: threadpoolctl limits only loaded libraries
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        yield


def stalled_boards(n: int = 240, seed: int = 0) -> list[Any]:
    """Synthetic sprints: teams of one deliver nothing, the others 60-80% of their commitment."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        committed = float(rng.integers(10, 60))
        team = int(rng.choice([1, 4]))
        share = 0.0 if team == 1 else float(rng.uniform(0.6, 0.8))
        rows.append(sprint(i % 6, i, committed, round(committed * share) - committed, team=team))
    return rows


def test_weighted_quantile_and_interpolation() -> None:
    values = np.asarray([1.0, 2.0, 3.0, 10.0])
    assert weighted_quantile(values, np.ones(4), 0.5) == 2.0
    assert weighted_quantile(values, np.asarray([1.0, 1.0, 1.0, 10.0]), 0.5) == 10.0  # the weight counts
    grid = np.asarray([[2.0, 4.0, 6.0, 8.0, 10.0]])
    levels = (0.1, 0.25, 0.5, 0.75, 0.9)
    assert conditional_quantile(grid, levels, np.asarray([0.5]))[0] == pytest.approx(6.0)
    assert conditional_quantile(grid, levels, np.asarray([0.05]))[0] == pytest.approx(1.0)  # towards 0
    assert conditional_quantile(grid, levels, np.asarray([0.99]))[0] == pytest.approx(10.0)  # flat above


def test_hurdle_predicts_nothing_where_nothing_gets_delivered() -> None:
    rows = stalled_boards()
    x, names = build_features(rows, [])
    y = np.asarray([r.vel_diff for r in rows])
    fit, test = np.arange(180), np.arange(180, 240)
    committed = np.asarray([r.vel_starttime for r in rows])[test]
    stalled = np.asarray([r.no_teammember == 1 for r in rows])[test]
    errors = {}
    for v in (RATIO, THRESHOLD, MIXTURE):
        pred = DeliveryModel(variant=v).fit(x[fit], y[fit], names).predict(x[test])
        errors[v.name] = float(np.mean(np.abs(pred - y[test])))
        if v.target == "hurdle":
            assert np.allclose(pred[stalled], -committed[stalled])  # delivered 0
            assert np.all(pred[~stalled] + committed[~stalled] > 0.5 * committed[~stalled])
    # a median regression is consistent for this too (the median of a mixture is a median): the
    # hurdle is no better in the limit, only another way to estimate it; both are near exact here
    zero = float(np.mean(np.abs(y[test] - np.median(y[fit]))))
    assert max(errors.values()) < zero / 10, (errors, zero)


def test_mixture_quantiles_put_the_mass_at_zero_and_cover_the_rest() -> None:
    rows = stalled_boards(n=300, seed=1)
    x, names = build_features(rows, [])
    y = np.asarray([r.vel_diff for r in rows])
    model = DeliveryModel(variant=MIXTURE).fit(x[:200], y[:200], names)
    band = model.predict_quantiles(x[200:], (0.1, 0.5, 0.9))
    assert np.all(np.diff(band, axis=1) >= -1e-9)  # quantiles never cross
    committed = np.asarray([r.vel_starttime for r in rows])[200:]
    stalled = np.asarray([r.no_teammember == 1 for r in rows])[200:]
    assert np.allclose(band[stalled, 2], -committed[stalled])  # even P90: nothing delivered
    inside = (band[:, 0] <= y[200:]) & (y[200:] <= band[:, 2])
    assert 0.6 <= inside[~stalled].mean() < 1.0  # about 80% of the positive deliveries, not all


def test_zero_probability_follows_the_features() -> None:
    rng = np.random.default_rng(2)
    d = rng.normal(size=(400, 1))
    committed = np.full(400, 10.0)
    delivered = np.where(d[:, 0] > 0, 0.0, 7.0)
    model = HurdleModel(combine="mixture").fit(d, delivered - committed, committed)
    p0 = model.zero_probability(np.asarray([[2.0], [-2.0]]))
    assert p0[0] > 0.9 and p0[1] < 0.1
    with pytest.raises(RuntimeError, match="fit the model first"):
        HurdleModel().predict(d, committed)


def test_point_forecast_variants_have_no_band() -> None:
    rows = stalled_boards(n=60)
    x, names = build_features(rows, [])
    y = np.asarray([r.vel_diff for r in rows])
    model = DeliveryModel(variant=RATIO).fit(x, y, names)
    with pytest.raises(ValueError, match="point forecasts only"):
        model.predict_quantiles(x, (0.1, 0.9))
