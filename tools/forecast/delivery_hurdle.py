"""A two-part (hurdle) model of sprint delivery: "does the sprint deliver anything?", then "how much?".

Many sprints deliver nothing (TSE2017: 52% of JIRA's, 22% of JBoss's, 19% of MongoDB's, 6% of
Spring's), a point mass at zero that a single absolute-error regression smooths over. The hurdle
model (Cragg 1971, Econometrica 39(5); Mullahy 1986, J. Econometrics 33(3)) splits the outcome in two:

- a classifier for p0 = P(delivered = 0 | features) (gradient boosting, log loss);
- quantile regressions of the delivered points on the sprints that delivered something: the
  delivered share of the commitment weighted by the commitment (the loss stays in points, as for the
  "ratio target" variant of tools/forecast/delivery.py), or the points where nothing was committed.

The predictive distribution is the mixture F(d) = p0 + (1 - p0) G(d) for d >= 0 (G: the conditional
distribution of a positive delivery), so its tau-quantile is 0 when tau <= p0 and otherwise G's
quantile at (tau - p0) / (1 - p0). Two ways to turn it into the point forecast that minimises the
absolute error:

- "threshold": 0 when p0 > 0.5, else G's median (only the 0.5 quantile is fitted);
- "mixture": the mixture's median (G's quantile at (0.5 - p0) / (1 - p0)), which is the
  absolute-error optimum when p0 and G are right; it needs G on a grid of levels (QUANTILES),
  interpolated linearly, and the same grid gives the P10-P90 band. Quantile curves fitted one level
  at a time may cross; they are sorted per sprint (rearrangement: Chernozhukov, Fernandez-Val and
  Galichon 2010, Econometrica 78(3)), which can only reduce their quantile loss.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

Combine = Literal["threshold", "mixture"]
# G's levels: five fits per part (each level is one boosted model; the eval fits hundreds of models).
QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)
MIN_ROWS = 20  # fewer training rows than this: constants (their quantiles / zero share) instead


def _hgb_kwargs(seed: int) -> dict[str, Any]:
    # The delivery model's a-priori settings (tools/forecast/delivery.py), never tuned on test folds.
    return {
        "max_iter": 100,
        "max_depth": 3,
        "learning_rate": 0.1,
        "max_bins": 32,
        "min_samples_leaf": 10,
        "early_stopping": False,
        "random_state": seed,
    }


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The smallest value whose cumulative weight reaches q of the total (the minimiser of the
    weighted quantile loss)."""
    order = np.argsort(values)
    v, w = values[order], weights[order]
    cum = np.cumsum(w)
    return float(v[min(int(np.searchsorted(cum, q * cum[-1])), len(v) - 1)])


class _Quantiles:
    """G's quantiles at `levels` for one target (one learner per level, or constants when few rows)."""

    def __init__(self, levels: Sequence[float], seed: int) -> None:
        self.levels = tuple(levels)
        self.seed = seed
        self._models: list[Any] = []
        self._constant: np.ndarray | None = None

    def fit(self, d: np.ndarray, target: np.ndarray, weight: np.ndarray) -> _Quantiles:
        from sklearn.ensemble import HistGradientBoostingRegressor

        if len(target) < MIN_ROWS:
            if len(target):
                self._constant = np.asarray([weighted_quantile(target, weight, q) for q in self.levels])
            else:
                self._constant = np.zeros(len(self.levels))
            return self
        self._models = [
            HistGradientBoostingRegressor(loss="quantile", quantile=q, **_hgb_kwargs(self.seed)).fit(
                d, target, sample_weight=weight
            )
            for q in self.levels
        ]
        return self

    def predict(self, d: np.ndarray) -> np.ndarray:
        """(rows, levels), non-decreasing along the levels (rearranged)."""
        if self._constant is not None:
            return np.tile(self._constant, (len(d), 1))
        out = np.column_stack([m.predict(d) for m in self._models])
        return np.sort(out, axis=1)


class _ZeroShare:
    """P(delivered = 0 | features): a classifier, or the training share when one class is missing."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._model: Any = None
        self._share = 0.0

    def fit(self, d: np.ndarray, nothing: np.ndarray) -> _ZeroShare:
        from sklearn.ensemble import HistGradientBoostingClassifier

        self._share = float(np.mean(nothing)) if len(nothing) else 0.0
        if len(nothing) >= MIN_ROWS and 0 < nothing.sum() < len(nothing):
            self._model = HistGradientBoostingClassifier(**_hgb_kwargs(self.seed)).fit(d, nothing)
        return self

    def predict(self, d: np.ndarray) -> np.ndarray:
        if self._model is None:
            return np.full(len(d), self._share)
        return np.asarray(self._model.predict_proba(d)[:, 1], dtype=float)


def conditional_quantile(grid: np.ndarray, levels: Sequence[float], q: np.ndarray) -> np.ndarray:
    """G's quantile at level q[i] for each row of `grid` (its quantiles at `levels`), interpolated
    linearly; below the first level towards 0 (a positive delivery is above 0), above the last flat."""
    lv = np.concatenate([[0.0], np.asarray(levels, dtype=float)])
    out = np.empty(len(grid))
    for i, row in enumerate(grid):
        out[i] = np.interp(q[i], lv, np.concatenate([[0.0], np.maximum(row, 0.0)]))
    return out


class HurdleModel:
    """Delivered points as a mixture of "nothing" and a positive delivery (see the module doc).

    Works on a design matrix already built by tools/forecast/delivery.DeliveryModel; `committed` is
    each sprint's commitment at the prediction time. Predictions are of vel_diff (delivered minus
    committed), like every delivery variant.
    """

    def __init__(self, seed: int = 0, combine: Combine = "mixture") -> None:
        self.seed = seed
        self.combine = combine
        self.levels = (0.5,) if combine == "threshold" else QUANTILES
        self._zero = _ZeroShare(seed)
        self._ratio = _Quantiles(self.levels, seed)
        self._points = _Quantiles(self.levels, seed)
        self._fitted = False

    def fit(self, d: np.ndarray, y: np.ndarray, committed: np.ndarray) -> HurdleModel:
        delivered = y + committed
        nothing = delivered <= 0
        self._zero.fit(d, nothing)
        some = ~nothing
        pos = some & (committed > 0)
        self._ratio.fit(d[pos], delivered[pos] / committed[pos], committed[pos])
        free = some & (committed <= 0)
        self._points.fit(d[free], delivered[free], np.ones(int(free.sum())))
        self._fitted = True
        return self

    def _grid(self, d: np.ndarray, committed: np.ndarray) -> np.ndarray:
        """G's quantiles of the delivered points, (rows, levels)."""
        grid = np.zeros((len(d), len(self.levels)))
        pos = committed > 0
        if pos.any():
            grid[pos] = self._ratio.predict(d[pos]) * committed[pos, None]
        if (~pos).any():
            grid[~pos] = self._points.predict(d[~pos])
        return np.maximum(grid, 0.0)

    def zero_probability(self, d: np.ndarray) -> np.ndarray:
        return self._zero.predict(d)

    def delivered_quantiles(self, d: np.ndarray, committed: np.ndarray, taus: Sequence[float]) -> np.ndarray:
        """The mixture's quantiles of the delivered points at `taus`, (rows, taus)."""
        if not self._fitted:
            raise RuntimeError("fit the model first")
        p0 = self._zero.predict(d)
        grid = self._grid(d, committed)
        cols = []
        for tau in taus:
            level = np.clip((tau - p0) / np.maximum(1.0 - p0, 1e-9), 0.0, 1.0)
            q = conditional_quantile(grid, self.levels, level)
            cols.append(np.where(p0 >= tau, 0.0, q))
        return np.column_stack(cols)

    def predict(self, d: np.ndarray, committed: np.ndarray, combine: Combine | None = None) -> np.ndarray:
        """vel_diff: the point forecast of the delivered points minus the commitment. `combine`
        overrides the model's own (both need G's median, which every level grid holds)."""
        if not self._fitted:
            raise RuntimeError("fit the model first")
        if (combine or self.combine) == "threshold":
            p0 = self._zero.predict(d)
            median = self._grid(d, committed)[:, self.levels.index(0.5)]
            delivered = np.where(p0 > 0.5, 0.0, median)
        else:
            delivered = self.delivered_quantiles(d, committed, (0.5,))[:, 0]
        return np.asarray(delivered - committed, dtype=float)
