"""The delay-risk classifier: boosted trees + a random forest, an F1-tuned threshold, explanations.

The two tree ensembles err differently (boosting fits the common patterns sharply, the forest
averages many deep trees and is steadier on rare mixes of features); their mean probability beat
either one alone on out-of-fold training predictions of the EMSE2017 projects. The EMSE2017 paper's
best single classifier was also a random forest.

Training only ever sees training rows: the decision threshold is chosen on out-of-fold
predictions of the training set (stratified k-fold), or, when the rows' times are given and
`threshold_from="latest"`, on the latest share of the training rows predicted by a model of the
earlier ones (what a product meets: the future), or with `"blocks"` on several forward-chained
latest slices; never on the test set. Issue 22's inner time-ordered validation kept "folds".
`half_life_days` weights recent training rows more (teams and processes drift). `features` picks the
columns: by default the product's (`features.PRODUCT_FEATURES`: read from Asana, no absolute dates).
`monotone_increasing` and `linear_weight` (a logistic regression blended by rank) were measured on
issue 22's inner split and lost; they stay off by default. `explain` says why a record is flagged
by replacing one feature at a time with its typical (median) training value and reporting how much
the probability drops: the features whose real values raise the risk most.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import precision_recall_curve
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from tools.delay_risk.features import (
    CATEGORICAL,
    DESCRIPTIONS,
    FEATURE_NAMES,
    PRODUCT_FEATURES,
    Vocabulary,
    encode,
)


@dataclass(frozen=True)
class Reason:
    feature: str
    value: Any
    effect: float  # probability points this feature's value adds versus a typical value
    description: str


@dataclass(frozen=True)
class ModelConfig:
    max_iter: int = 300
    learning_rate: float = 0.05
    max_leaf_nodes: int = 31
    min_samples_leaf: int = 20
    folds: int = 3
    seed: int = 0
    forest_trees: int = 300
    forest_weight: float = 0.5  # share of the forest in the blended probability (0 = boosting only)
    features: tuple[str, ...] = PRODUCT_FEATURES
    # "folds" (stratified out-of-fold), "latest" (the latest share, by a model of the earlier rows)
    # or "blocks" (each of `blocks` latest slices by a model of everything before it); the last two
    # need times.
    threshold_from: str = "folds"
    blocks: int = 3
    latest_share: float = 0.2  # share of the training rows, latest in time, for "latest"
    half_life_days: float = 0.0  # recency weighting of training rows (0 = equal weights; needs times)
    # Features whose rise may only raise the boosted trees' delay probability (e.g. late shares).
    monotone_increasing: tuple[str, ...] = ()
    # Share of a logistic regression on the numeric features, blended by rank: each model's score
    # becomes its quantile among its own training scores before averaging (0 = none).
    linear_weight: float = 0.0


class _Blend:
    """Mean of the boosted trees' and the forest's delay probabilities."""

    def __init__(self, config: ModelConfig) -> None:
        c = config
        names = list(c.features)
        self.boosted = HistGradientBoostingClassifier(
            max_iter=c.max_iter,
            learning_rate=c.learning_rate,
            max_leaf_nodes=c.max_leaf_nodes,
            min_samples_leaf=c.min_samples_leaf,
            categorical_features=[names.index(n) for n in CATEGORICAL if n in names] or None,
            monotonic_cst=[int(n in c.monotone_increasing) for n in names] if c.monotone_increasing else None,
            random_state=c.seed,
        )
        self.forest = RandomForestClassifier(
            n_estimators=c.forest_trees,
            min_samples_leaf=2,
            max_features=0.3,
            n_jobs=-1,
            random_state=c.seed,
        )
        self.forest_weight = c.forest_weight
        self.linear_weight = c.linear_weight
        self._numeric = [j for j, n in enumerate(names) if n not in CATEGORICAL]
        self.linear = make_pipeline(
            SimpleImputer(strategy="median", add_indicator=True),
            StandardScaler(),
            LogisticRegression(C=0.1, max_iter=500),
        )
        self._train_scores: list[np.ndarray] = []
        self._empty = np.zeros(len(names), dtype=bool)

    @staticmethod
    def _dense(x: np.ndarray) -> np.ndarray:
        # The forest gets missing values as -1 (every feature is >= 0), a value of its own to split on.
        dense: np.ndarray = np.nan_to_num(x, nan=-1.0)
        return dense

    def _filled(self, x: np.ndarray) -> np.ndarray:
        # A feature a team never records (all missing in training) is a constant to the trees;
        # the boosted trees' binning cannot take a column with no values at all.
        if not self._empty.any():
            return x
        x = x.copy()
        x[:, self._empty] = 0.0
        return x

    def fit(self, x: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None) -> _Blend:
        self._empty = np.isnan(x).all(axis=0)
        x = self._filled(x)
        self.boosted.fit(x, y, sample_weight=weights)
        if self.forest_weight > 0:
            self.forest.fit(self._dense(x), y, sample_weight=weights)
        if self.linear_weight > 0:
            self.linear.fit(x[:, self._numeric], y, logisticregression__sample_weight=weights)
            self._train_scores = [np.sort(s) for s in self._parts(x)]
        return self

    def _parts(self, x: np.ndarray) -> list[np.ndarray]:
        trees = self._trees(x)
        return [trees, self.linear.predict_proba(x[:, self._numeric])[:, 1]]

    def _trees(self, x: np.ndarray) -> np.ndarray:
        p: np.ndarray = self.boosted.predict_proba(x)[:, 1]  # scikit-learn is untyped
        if self.forest_weight > 0:
            p = (1 - self.forest_weight) * p + self.forest_weight * self.forest.predict_proba(self._dense(x))[
                :, 1
            ]
        return p

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        x = self._filled(x)
        if self.linear_weight > 0:
            # Rank blend: each part's training-score quantile, so neither scale dominates.
            q = [
                np.searchsorted(ref, s, side="right") / len(ref)
                for ref, s in zip(self._train_scores, self._parts(x), strict=True)
            ]
            p = (1 - self.linear_weight) * q[0] + self.linear_weight * q[1]
        else:
            p = self._trees(x)
        return np.column_stack([1 - p, p])


def best_f1_threshold(labels: np.ndarray, scores: np.ndarray) -> float:
    """The score cut that maximises F1 on (out-of-fold) training predictions."""
    precision, recall, thresholds = precision_recall_curve(labels, scores)
    f1 = np.where(precision + recall > 0, 2 * precision * recall / np.maximum(precision + recall, 1e-12), 0)
    if len(thresholds) == 0:
        return 0.5
    return float(thresholds[int(np.argmax(f1[:-1]))])


def _typical_values(x: np.ndarray, names: Sequence[str]) -> np.ndarray:
    """Median per numeric feature, most frequent code per categorical one."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-missing features stay NaN
        typical: np.ndarray = np.nanmedian(x, axis=0)
    for name in CATEGORICAL:
        if name not in names:
            continue
        j = list(names).index(name)
        col = x[:, j][~np.isnan(x[:, j])]
        if len(col):
            values, counts = np.unique(col, return_counts=True)
            typical[j] = values[int(np.argmax(counts))]
    return typical


class DelayRiskModel:
    def __init__(self, config: ModelConfig | None = None) -> None:
        self.config = config or ModelConfig()
        unknown = set(self.config.features) - set(FEATURE_NAMES)
        if unknown:
            raise ValueError(f"unknown delay-risk features: {', '.join(sorted(unknown))}")
        self.names: tuple[str, ...] = self.config.features
        self.vocab = Vocabulary()
        self.threshold = 0.5
        self._model: _Blend | None = None
        self._typical: np.ndarray | None = None

    def _new_estimator(self) -> _Blend:
        return _Blend(self.config)

    def _weights(self, times: np.ndarray | None) -> np.ndarray | None:
        half = self.config.half_life_days
        if times is None or half <= 0:
            return None
        weights: np.ndarray = 0.5 ** ((times.max() - times) / half)
        return weights

    def _latest_threshold(self, x: np.ndarray, y: np.ndarray, times: np.ndarray) -> float | None:
        """F1-best cut on the latest training rows, scored by a model of the earlier ones; None when
        either part lacks a class."""
        order = np.argsort(times, kind="stable")
        cut = int(len(order) * (1 - self.config.latest_share))
        early, late = order[:cut], order[cut:]
        if len(set(y[early].tolist())) < 2 or len(set(y[late].tolist())) < 2:
            return None
        w = self._weights(times[early])
        model = self._new_estimator().fit(x[early], y[early], w)
        return best_f1_threshold(y[late], model.predict_proba(x[late])[:, 1])

    def _blocks_threshold(self, x: np.ndarray, y: np.ndarray, times: np.ndarray) -> float | None:
        """F1-best cut on the latest `blocks` slices of the training rows (together `latest_share`),
        each predicted by a model of every row before it: forward-chaining, so each prediction is of
        a later period, as in use. None when the slices or their pasts lack a class."""
        order = np.argsort(times, kind="stable")
        n, k = len(order), self.config.blocks
        start = int(n * (1 - self.config.latest_share))
        edges = [start + (n - start) * i // k for i in range(k + 1)]
        scores, labels = [], []
        for lo, hi in zip(edges[:-1], edges[1:], strict=True):
            past, block = order[:lo], order[lo:hi]
            if len(block) == 0 or len(set(y[past].tolist())) < 2:
                continue
            model = self._new_estimator().fit(x[past], y[past], self._weights(times[past]))
            scores.append(model.predict_proba(x[block])[:, 1])
            labels.append(y[block])
        if not labels or len(set(np.concatenate(labels).tolist())) < 2:
            return None
        return best_f1_threshold(np.concatenate(labels), np.concatenate(scores))

    def _folds_threshold(self, x: np.ndarray, y: np.ndarray, weights: np.ndarray | None) -> float:
        oof = np.zeros(len(y))
        folds = StratifiedKFold(n_splits=self.config.folds, shuffle=True, random_state=self.config.seed)
        for tr, va in folds.split(x, y):
            w = None if weights is None else weights[tr]
            oof[va] = self._new_estimator().fit(x[tr], y[tr], w).predict_proba(x[va])[:, 1]
        return best_f1_threshold(y, oof)

    def fit(
        self,
        records: Sequence[Mapping[str, Any]],
        labels: Sequence[bool] | np.ndarray,
        times: Sequence[float] | np.ndarray | None = None,
    ) -> DelayRiskModel:
        """Train on `records`; `times` (e.g. days of commitment) enable the time-aware options."""
        y = np.asarray(labels, dtype=int)
        if len(set(y.tolist())) < 2:
            raise ValueError("training data needs both delayed and on-time examples")
        t = None if times is None else np.asarray(times, dtype=float)
        if t is not None and len(t) != len(y):
            raise ValueError("times must give one value per training record")
        self.vocab = Vocabulary().fit(records)
        x = encode(records, self.vocab, self.names)
        weights = self._weights(t)
        threshold = None
        if self.config.threshold_from == "latest" and t is not None:
            threshold = self._latest_threshold(x, y, t)
        elif self.config.threshold_from == "blocks" and t is not None:
            threshold = self._blocks_threshold(x, y, t)
        self.threshold = threshold if threshold is not None else self._folds_threshold(x, y, weights)
        self._model = self._new_estimator().fit(x, y, weights)
        self._typical = _typical_values(x, self.names)
        return self

    def _fitted(self) -> _Blend:
        if self._model is None:
            raise RuntimeError("the model is not trained")
        return self._model

    def predict_proba(self, records: Sequence[Mapping[str, Any]]) -> np.ndarray:
        return self._fitted().predict_proba(encode(records, self.vocab, self.names))[:, 1]

    def predict(self, records: Sequence[Mapping[str, Any]]) -> np.ndarray:
        return self.predict_proba(records) >= self.threshold

    def explain(self, record: Mapping[str, Any], top: int = 3) -> list[Reason]:
        """The features whose actual values raise this record's delay probability the most."""
        model = self._fitted()
        assert self._typical is not None
        row = encode([record], self.vocab, self.names)
        base = float(model.predict_proba(row)[0, 1])
        probes = np.repeat(row, len(self.names), axis=0)
        for j in range(len(self.names)):
            probes[j, j] = self._typical[j]
        drops = base - model.predict_proba(probes)[:, 1]
        order = np.argsort(-drops)[:top]
        return [
            Reason(
                self.names[j],
                record.get(self.names[j]),
                round(float(drops[j]), 4),
                DESCRIPTIONS[self.names[j]],
            )
            for j in order
            if drops[j] > 0
        ]

    def importance(self, records: Sequence[Mapping[str, Any]]) -> dict[str, float]:
        """Mean absolute effect of each feature over `records` (same ablation as `explain`)."""
        model = self._fitted()
        assert self._typical is not None
        x = encode(records, self.vocab, self.names)
        base = model.predict_proba(x)[:, 1]
        out: dict[str, float] = {}
        for j, name in enumerate(self.names):
            probe = x.copy()
            probe[:, j] = self._typical[j]
            out[name] = float(np.mean(np.abs(base - model.predict_proba(probe)[:, 1])))
        return dict(sorted(out.items(), key=lambda kv: -kv[1]))
