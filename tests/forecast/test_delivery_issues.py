"""Per-issue completion probabilities: learned from sprint outcomes only, never from the sprint's own."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from tools.forecast.delivery import (
    COUNT_FIELDS,
    DEFAULT_VARIANT,
    ISSUE_STACK_VARIANT,
    ISSUE_VARIANT,
    LEGACY_VARIANT,
    VARIANTS,
    DeliveryModel,
    _columns,
    build_features,
)
from tools.forecast.delivery_backtest import backtest
from tools.forecast.delivery_issues import cross_fit, delivered_share, issue_table


@pytest.fixture(autouse=True)
def _one_thread() -> Iterator[None]:
    """Small fits on one OpenMP thread: spinning threads made them tens of times slower on a busy
    machine (as evals/sprints.py does)."""
    import sklearn.ensemble  # noqa: F401  # loaded first: threadpoolctl limits only loaded libraries
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        yield


def sprint(board: int, sid: int, committed: float, diff: float) -> Any:
    return SimpleNamespace(
        boardid=board, sprintid=sid, name=f"S{sid}", vel_diff=diff, planday=14, no_issue_starttime=4,
        vel_starttime=committed, no_issue_added=0, vel_added=0, no_issue_removed=0, vel_removed=0,
        no_issuetodo=4, vel_todo=committed, no_issueinprogress=0, vel_inprogress=0, no_issuedone=0,
        vel_done=0, no_admin=1, no_teammember=4,
    )  # fmt: skip


def issue(board: int, sid: int, blocked: int) -> Any:
    return SimpleNamespace(
        boardid=board, sprintid=sid, type="Bug", priority="Major", no_comment=0, no_affectversion=0,
        no_fixversion=1, no_issuelink=blocked, no_blocking=0, no_blockedby=blocked, no_fixversion_change=0,
        no_priority_change=0, no_des_change=0, gunning_fog="easy",
    )  # fmt: skip


def synthetic(n: int = 160, seed: int = 0) -> tuple[list[Any], list[Any]]:
    """Each of four equal issues is done unless blocked: delivered share = unblocked share."""
    rng = np.random.default_rng(seed)
    rows, issues = [], []
    for s in range(n):
        blocked = rng.integers(0, 2, 4)
        committed = float(rng.integers(8, 40))
        rows.append(sprint(s % 4, s, committed, -committed * blocked.mean()))
        issues += [issue(s % 4, s, int(b)) for b in blocked]
    return rows, issues


def test_issue_counts_leak_and_are_left_out_except_by_the_old_models() -> None:
    rows, issues = synthetic(30)
    _, names = build_features(rows, issues)
    kept = {names[i] for i in _columns(names, DEFAULT_VARIANT)}
    assert not kept & set(COUNT_FIELDS) and "mean_no_blockedby" in kept
    assert all(not v.issue_counts for v in VARIANTS)
    assert set(COUNT_FIELDS) <= {names[i] for i in _columns(names, LEGACY_VARIANT)}


def test_issue_table_follows_the_sprints_and_renumbers_on_take() -> None:
    rows, issues = synthetic(5)
    table = issue_table(rows, issues)
    assert table.sprints == 5 and np.bincount(table.sprint).tolist() == [4] * 5
    part = table.take(np.asarray([3, 1]))
    assert part.sprints == 2 and np.bincount(part.sprint).tolist() == [4, 4]
    assert np.array_equal(part.x[part.sprint == 0], table.x[table.sprint == 3])


def test_out_of_fold_estimates_never_see_their_own_sprint() -> None:
    rows, issues = synthetic(90)
    x, names = build_features(rows, issues)
    table = issue_table(rows, issues)
    y = np.asarray([r.vel_diff for r in rows])
    committed = x[:, names.index("committed")]
    oof, _ = cross_fit(table, y, committed)
    changed = y.copy()
    changed[5] = 0.0  # sprint 5 delivers everything instead
    oof2, _ = cross_fit(table, changed, committed)
    assert oof2[5] == pytest.approx(oof[5])
    assert delivered_share(np.asarray([-5.0, 3.0, 0.0]), np.asarray([10.0, 10.0, 0.0]))[:2].tolist() == [
        0.5,
        1.0,
    ]


def test_issue_probabilities_recover_what_blocks_delivery() -> None:
    rows, issues = synthetic()
    x, names = build_features(rows, issues)
    table = issue_table(rows, issues)
    y = np.asarray([r.vel_diff for r in rows])
    fit, test = np.arange(120), np.arange(120, 160)
    boards = np.asarray([r.boardid for r in rows])
    for variant in (ISSUE_VARIANT, ISSUE_STACK_VARIANT):
        model = DeliveryModel(variant=variant).fit(x[fit], y[fit], names, boards[fit], table.take(fit))
        pred = model.predict(x[test], boards[test], table.take(test))
        err, naive = np.mean(np.abs(pred - y[test])), np.mean(np.abs(np.median(y[fit]) - y[test]))
        assert err < 0.5 * naive, variant.name
    with pytest.raises(ValueError, match="issue rows"):
        DeliveryModel(variant=ISSUE_VARIANT).fit(x, y, names, boards)


def test_backtest_carries_the_issue_rows() -> None:
    rows, issues = synthetic(60)
    x, names = build_features(rows, issues)
    y = np.asarray([r.vel_diff for r in rows])
    bt = backtest(x, y, names, rows, "forward", variants=[ISSUE_VARIANT], issues=issue_table(rows, issues))
    assert len(bt.tested) == 54 and np.isfinite(bt.model).all()
