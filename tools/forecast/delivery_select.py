"""Choose the delivery model's variant on the training data only, never on the test fold.

Candidates are the variants and ENSEMBLE (the median of their predictions); the one with the lowest
MAE on validation data drawn from the training data wins (ties: the earlier one). For a 10-fold CV
outer fold the nine training folds are cut into contiguous inner folds (the same protocol one level
down). For forward chaining the validation data are the earlier outer folds' own predictions: block
j < k was predicted by a model trained on blocks before j, so all of it lies in fold k's training
data and no extra fit is needed (tools.forecast.delivery_backtest). `inner_splits("forward", ...)`
gives the same kind of split for a model fitted once on a whole history. With no validation data
the a-priori default is used.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
from pydantic import BaseModel

from tools.forecast.delivery import DEFAULT_VARIANT, DeliveryModel, Variant
from tools.forecast.delivery_issues import IssueTable

Protocol = Literal["cv", "forward"]
INNER_FOLDS = 2
FORWARD_ORIGINS = 1
ENSEMBLE = "median of the variants"
MIN_INNER_TRAIN = 30  # sprints; fewer gives a selection no better than a coin


class Selection(BaseModel):
    chosen: str
    inner_mae: dict[str, float]


Split = tuple[np.ndarray, np.ndarray]


def inner_splits(protocol: Protocol, train_blocks: Sequence[np.ndarray]) -> list[Split]:
    """Inner (fit, validate) index pairs built from the outer training blocks only, in time order."""
    if protocol == "forward":
        splits = []
        for k in range(max(1, len(train_blocks) - FORWARD_ORIGINS), len(train_blocks)):
            splits.append((np.concatenate(train_blocks[:k]), train_blocks[k]))
        return [s for s in splits if len(s[0]) >= MIN_INNER_TRAIN and len(s[1])]
    train = np.sort(np.concatenate(train_blocks))
    folds = np.array_split(train, INNER_FOLDS)
    return [(np.setdiff1d(train, f), f) for f in folds if len(f) and len(train) - len(f) >= MIN_INNER_TRAIN]


def ensemble(predictions: Sequence[np.ndarray]) -> np.ndarray:
    """The median of the variants' predictions (the MAE-consistent way to pool point predictions)."""
    return np.asarray(np.median(np.vstack(predictions), axis=0), dtype=float)


def pick_lowest(errors: dict[str, list[np.ndarray]], fallback: str) -> Selection:
    """The candidate with the lowest mean absolute error (`fallback` when there are no errors yet)."""
    scores = {k: round(float(np.mean(np.concatenate(e))), 4) for k, e in errors.items() if e}
    if not scores:
        return Selection(chosen=fallback, inner_mae={})
    return Selection(chosen=min(scores, key=lambda k: scores[k]), inner_mae=scores)


def choose_variant(
    x: np.ndarray,
    y: np.ndarray,
    names: Sequence[str],
    splits: Sequence[Split],
    variants: Sequence[Variant],
    *,
    seed: int = 0,
    boards: np.ndarray | None = None,
    issues: IssueTable | None = None,
) -> Selection:
    """The candidate (a variant, or ENSEMBLE: the median of all of them) with the lowest MAE over the
    inner splits; the default variant when there are none."""
    if not splits or len(variants) < 2:
        fallback = DEFAULT_VARIANT if DEFAULT_VARIANT in variants or not variants else variants[0]
        return Selection(chosen=fallback.name, inner_mae={})
    errors: dict[str, list[np.ndarray]] = {v.name: [] for v in variants}
    errors[ENSEMBLE] = []
    for fit, val in splits:
        preds = [fit_predict(v, x, y, names, boards, fit, val, seed, issues) for v in variants]
        for v, p in zip(variants, preds, strict=True):
            errors[v.name].append(np.abs(p - y[val]))
        errors[ENSEMBLE].append(np.abs(ensemble(preds) - y[val]))
    return pick_lowest(errors, DEFAULT_VARIANT.name)


def fit_predict(
    variant: Variant,
    x: np.ndarray,
    y: np.ndarray,
    names: Sequence[str],
    boards: np.ndarray | None,
    fit: np.ndarray,
    test: np.ndarray,
    seed: int,
    issues: IssueTable | None = None,
) -> np.ndarray:
    """One variant fitted on rows `fit`, predicting rows `test`."""
    b_fit, b_test = (None, None) if boards is None else (boards[fit], boards[test])
    uses_issues = issues is not None and (variant.issue_share or variant.target == "issues")
    i_fit, i_test = (
        (issues.take(fit), issues.take(test)) if issues is not None and uses_issues else (None, None)
    )
    model = DeliveryModel(seed=seed, variant=variant).fit(x[fit], y[fit], names, b_fit, i_fit)
    return model.predict(x[test], b_test, i_test)
