"""Backtest the delivery model over time-ordered blocks of sprints, choosing its variant per fold.

Two protocols over the same FOLDS contiguous blocks of sprints sorted by sprintid (a time proxy):
``cv`` tests every block with a model trained on the other blocks (the paper's 10-fold CV);
``forward`` tests block k with a model trained on blocks 1..k-1 only (no future). In each outer
fold the variant is chosen on inner folds of that fold's training data (tools.forecast
.delivery_select); every candidate variant's own predictions and the naive baselines (fitted on
the same training data) are kept so that each can be reported beside the selected model.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict

from tools.forecast.delivery import DEFAULT_VARIANT, VARIANTS, Variant, naive_predictions
from tools.forecast.delivery_issues import IssueTable
from tools.forecast.delivery_select import (
    ENSEMBLE,
    Protocol,
    choose_variant,
    ensemble,
    fit_predict,
    inner_splits,
    pick_lowest,
)

FOLDS = 10


class Backtest(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    protocol: str
    tested: np.ndarray  # sprint indices, in test order
    model: np.ndarray  # selected variant's predictions of vel_diff
    variants: dict[str, np.ndarray]
    baselines: dict[str, np.ndarray]
    chosen: dict[str, int]  # variant name -> outer folds where it was selected


def _outer(protocol: Protocol, blocks: list[np.ndarray]) -> list[tuple[list[np.ndarray], np.ndarray]]:
    if protocol == "cv":
        return [([b for j, b in enumerate(blocks) if j != k], test) for k, test in enumerate(blocks)]
    return [(blocks[:k], blocks[k]) for k in range(1, len(blocks))]


def backtest(
    x: np.ndarray,
    y: np.ndarray,
    names: Sequence[str],
    iterations: Sequence[Any],
    protocol: Protocol,
    *,
    variants: Sequence[Variant] = VARIANTS,
    seed: int = 0,
    folds: int = FOLDS,
    issues: IssueTable | None = None,
) -> Backtest:
    boards = np.asarray([r.boardid for r in iterations])
    blocks = [b for b in np.array_split(np.arange(len(y)), folds) if len(b)]
    tested: list[np.ndarray] = []
    model: list[np.ndarray] = []
    per_variant: dict[str, list[np.ndarray]] = {}
    base: dict[str, list[np.ndarray]] = {}
    chosen: Counter[str] = Counter()
    past: dict[str, list[np.ndarray]] = {}  # forward: earlier folds' errors (inside this fold's training)
    fallback = DEFAULT_VARIANT.name if DEFAULT_VARIANT in variants else variants[0].name
    for train_blocks, test in _outer(protocol, blocks):
        train = np.sort(np.concatenate(train_blocks))
        if protocol == "forward" or len(variants) < 2:
            pick = fallback if len(variants) < 2 else pick_lowest(past, fallback).chosen
        else:
            splits = inner_splits(protocol, train_blocks)
            pick = choose_variant(
                x, y, names, splits, variants, seed=seed, boards=boards, issues=issues
            ).chosen
        chosen[pick] += 1
        preds = {v.name: fit_predict(v, x, y, names, boards, train, test, seed, issues) for v in variants}
        if len(preds) > 1:
            preds[ENSEMBLE] = ensemble(list(preds.values()))
        for name, pred in preds.items():
            per_variant.setdefault(name, []).append(pred)
            past.setdefault(name, []).append(np.abs(pred - y[test]))
        model.append(preds[pick])
        naive = naive_predictions([iterations[i] for i in train], [iterations[i] for i in test], iterations)
        for k, v_pred in naive.items():
            base.setdefault(k, []).append(v_pred)
        tested.append(test)
    return Backtest(
        protocol=protocol,
        tested=np.concatenate(tested),
        model=np.concatenate(model),
        variants={k: np.concatenate(v) for k, v in per_variant.items()},
        baselines={k: np.concatenate(v) for k, v in base.items()},
        chosen=dict(chosen),
    )
