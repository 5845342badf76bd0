"""The delivery model's variants, its board-sequence features and the inner-fold selection."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from tools.forecast.delivery import DEFAULT_VARIANT, VARIANTS, DeliveryModel, Variant, build_features
from tools.forecast.delivery_backtest import backtest
from tools.forecast.delivery_history import SEQUENCE_FIELDS, board_history
from tools.forecast.delivery_select import ENSEMBLE, choose_variant, inner_splits

RATIO = next(v for v in VARIANTS if v.target == "ratio")


@pytest.fixture(autouse=True)
def _one_thread() -> Iterator[None]:
    """Small fits on one OpenMP thread: spinning threads made them tens of times slower on a busy
    machine (as evals/sprints.py does)."""
    import sklearn.ensemble  # noqa: F401  # loaded first: threadpoolctl limits only loaded libraries
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        yield


def sprint(board: int, sid: int, committed: float, diff: float, team: int = 4) -> Any:
    return SimpleNamespace(
        boardid=board, sprintid=sid, name=f"S{sid}", vel_diff=diff, planday=14, no_issue_starttime=5,
        vel_starttime=committed, no_issue_added=0, vel_added=0, no_issue_removed=0, vel_removed=0,
        no_issuetodo=5, vel_todo=committed, no_issueinprogress=0, vel_inprogress=0, no_issuedone=0,
        vel_done=0, no_admin=1, no_teammember=team,
    )  # fmt: skip


def test_board_history_sees_only_earlier_sprints() -> None:
    rows = [sprint(1, i, 10.0, -float(i)) for i in range(6)]
    before = board_history(rows)
    changed = [*rows[:5], sprint(1, 5, 10.0, -99.0)]
    after = board_history(changed)
    assert all(np.array_equal(before[(1, i)], after[(1, i)], equal_nan=True) for i in range(6))
    hist = before[(1, 4)]
    assert hist[0] == 4  # four earlier sprints
    seq = dict(zip(SEQUENCE_FIELDS, hist[7:], strict=True))
    assert seq["seq_trend5_delivered"] == pytest.approx(-1.0)  # delivered 10, 9, 8, 7
    assert seq["seq_ratio_implied_diff"] == pytest.approx(10 * 0.85 - 10)  # median ratio of 1, .9, .8, .7
    assert np.isnan(before[(1, 0)][1])  # a board's first sprint has no history


def test_ratio_target_learns_proportional_delivery() -> None:
    rng = np.random.default_rng(0)
    rows = [sprint(i % 5, i, float(c), -0.5 * c) for i, c in enumerate(rng.integers(2, 200, 160))]
    x, names = build_features(rows, [])
    y = np.asarray([r.vel_diff for r in rows])
    pred = DeliveryModel(variant=RATIO).fit(x[:120], y[:120], names).predict(x[120:])
    diff = DeliveryModel(variant=DEFAULT_VARIANT).fit(x[:120], y[:120], names).predict(x[120:])
    err_ratio, err_diff = np.mean(np.abs(pred - y[120:])), np.mean(np.abs(diff - y[120:]))
    assert err_ratio < 0.5 and err_ratio < err_diff


def test_inner_splits_stay_inside_training_and_never_see_the_future() -> None:
    blocks = np.array_split(np.arange(200), 10)
    train_blocks = blocks[:6]
    (fit, val), = inner_splits("forward", train_blocks)  # fmt: skip
    assert fit.max() < val.min() and val.max() <= train_blocks[-1].max()
    cv_train = [b for j, b in enumerate(blocks) if j != 3]
    for fit, val in inner_splits("cv", cv_train):
        assert not set(fit) & set(val) and not (set(fit) | set(val)) & set(blocks[3])


def test_selection_falls_back_without_inner_data_and_picks_the_lower_error() -> None:
    x = np.zeros((10, 3))
    assert (
        choose_variant(x, np.zeros(10), ["a", "committed", "b"], [], VARIANTS).chosen == DEFAULT_VARIANT.name
    )
    rng = np.random.default_rng(1)
    rows = [sprint(i % 4, i, float(c), -0.5 * c) for i, c in enumerate(rng.integers(2, 200, 120))]
    x, names = build_features(rows, [])
    y = np.asarray([r.vel_diff for r in rows])
    splits = [(np.arange(80), np.arange(80, 120))]
    sel = choose_variant(x, y, names, splits, [DEFAULT_VARIANT, RATIO])
    assert set(sel.inner_mae) == {DEFAULT_VARIANT.name, RATIO.name, ENSEMBLE}
    assert sel.chosen == min(sel.inner_mae, key=lambda k: sel.inner_mae[k])


def test_backtest_reports_every_variant_and_the_baselines() -> None:
    rows = [sprint(i % 3, i, 20.0, -float(i % 7)) for i in range(60)]
    x, names = build_features(rows, [])
    y = np.asarray([r.vel_diff for r in rows])
    one: list[Variant] = [DEFAULT_VARIANT]
    cv = backtest(x, y, names, rows, "cv", variants=one)
    fwd = backtest(x, y, names, rows, "forward", variants=one)
    assert len(cv.tested) == 60 and len(fwd.tested) == 54  # forward never predicts the first block
    assert set(cv.variants) == {DEFAULT_VARIANT.name} and sum(cv.chosen.values()) == 10
    assert set(cv.baselines) == {"zero", "mean", "median", "board median", "last sprint"}


def test_forward_selection_uses_only_earlier_folds_errors() -> None:
    rng = np.random.default_rng(2)
    rows = [sprint(i % 4, i, float(c), -0.5 * c) for i, c in enumerate(rng.integers(2, 200, 100))]
    x, names = build_features(rows, [])
    y = np.asarray([r.vel_diff for r in rows])
    fwd = backtest(x, y, names, rows, "forward", variants=[DEFAULT_VARIANT, RATIO])
    assert sum(fwd.chosen.values()) == 9
    # the first fold has no earlier errors: the default; later folds follow the proportional truth
    assert fwd.chosen.get(DEFAULT_VARIANT.name, 0) >= 1
    assert fwd.chosen.get(RATIO.name, 0) + fwd.chosen.get(ENSEMBLE, 0) >= 6


def test_board_stats_leave_each_training_sprint_out() -> None:
    from tools.forecast.delivery_boards import BoardStats

    boards = np.asarray([1, 1, 1, 2])
    diff = np.asarray([-2.0, -4.0, -30.0, 5.0])
    committed = np.asarray([10.0, 10.0, 30.0, 0.0])
    stats = BoardStats()
    train = stats.fit_transform(boards, diff, committed)
    assert train[0].tolist()[:2] == [2.0, -17.0]  # sprint 0 sees sprints 1 and 2 only
    assert train[2][3] == pytest.approx(0.0) and train[0][3] == pytest.approx(0.5)  # sprint 2 delivered 0
    assert train[3][0] == 0 and np.isnan(train[3][1])  # alone on its board: nothing to see
    query = stats.transform(np.asarray([1, 9]))
    assert query[0].tolist()[:2] == [3.0, -4.0] and np.isnan(query[1][1])  # unknown board: NaN
    variant = next(v for v in VARIANTS if v.boards)
    with pytest.raises(ValueError, match="needs each sprint's board"):
        DeliveryModel(variant=variant).fit(np.zeros((30, 20)), np.zeros(30))
