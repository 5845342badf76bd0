"""The delay-risk classifier: boosted trees + a random forest, an F1-tuned threshold, explanations.

The two tree ensembles err differently (boosting fits the common patterns sharply, the forest
averages many deep trees and is steadier on rare mixes of features); their mean probability beat
either one alone on out-of-fold training predictions of the EMSE2017 projects. The EMSE2017 paper's
best single classifier was also a random forest.

Training only ever sees training rows: the decision threshold is chosen on out-of-fold
predictions of the training set (stratified k-fold), never on the test set. `explain` says why
a record is flagged by replacing one feature at a time with its typical (median) training value
and reporting how much the probability drops: the features whose real values raise the risk most.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.metrics import precision_recall_curve
from sklearn.model_selection import StratifiedKFold

from tools.delay_risk.features import CATEGORICAL, DESCRIPTIONS, FEATURE_NAMES, Vocabulary, encode


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


class _Blend:
    """Mean of the boosted trees' and the forest's delay probabilities."""

    def __init__(self, config: ModelConfig) -> None:
        c = config
        self.boosted = HistGradientBoostingClassifier(
            max_iter=c.max_iter,
            learning_rate=c.learning_rate,
            max_leaf_nodes=c.max_leaf_nodes,
            min_samples_leaf=c.min_samples_leaf,
            categorical_features=[FEATURE_NAMES.index(n) for n in CATEGORICAL],
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
        self._empty = np.zeros(len(FEATURE_NAMES), dtype=bool)

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

    def fit(self, x: np.ndarray, y: np.ndarray) -> _Blend:
        self._empty = np.isnan(x).all(axis=0)
        x = self._filled(x)
        self.boosted.fit(x, y)
        if self.forest_weight > 0:
            self.forest.fit(self._dense(x), y)
        return self

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        x = self._filled(x)
        p: np.ndarray = self.boosted.predict_proba(x)  # scikit-learn is untyped
        if self.forest_weight > 0:
            p = (1 - self.forest_weight) * p + self.forest_weight * self.forest.predict_proba(self._dense(x))
        return p


def best_f1_threshold(labels: np.ndarray, scores: np.ndarray) -> float:
    """The score cut that maximises F1 on (out-of-fold) training predictions."""
    precision, recall, thresholds = precision_recall_curve(labels, scores)
    f1 = np.where(precision + recall > 0, 2 * precision * recall / np.maximum(precision + recall, 1e-12), 0)
    if len(thresholds) == 0:
        return 0.5
    return float(thresholds[int(np.argmax(f1[:-1]))])


def _typical_values(x: np.ndarray) -> np.ndarray:
    """Median per numeric feature, most frequent code per categorical one."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-missing features stay NaN
        typical: np.ndarray = np.nanmedian(x, axis=0)
    for name in CATEGORICAL:
        j = FEATURE_NAMES.index(name)
        col = x[:, j][~np.isnan(x[:, j])]
        if len(col):
            values, counts = np.unique(col, return_counts=True)
            typical[j] = values[int(np.argmax(counts))]
    return typical


class DelayRiskModel:
    def __init__(self, config: ModelConfig | None = None) -> None:
        self.config = config or ModelConfig()
        self.vocab = Vocabulary()
        self.threshold = 0.5
        self._model: _Blend | None = None
        self._typical: np.ndarray | None = None

    def _new_estimator(self) -> _Blend:
        return _Blend(self.config)

    def fit(
        self, records: Sequence[Mapping[str, Any]], labels: Sequence[bool] | np.ndarray
    ) -> DelayRiskModel:
        y = np.asarray(labels, dtype=int)
        if len(set(y.tolist())) < 2:
            raise ValueError("training data needs both delayed and on-time examples")
        self.vocab = Vocabulary().fit(records)
        x = encode(records, self.vocab)
        oof = np.zeros(len(y))
        folds = StratifiedKFold(n_splits=self.config.folds, shuffle=True, random_state=self.config.seed)
        for tr, va in folds.split(x, y):
            oof[va] = self._new_estimator().fit(x[tr], y[tr]).predict_proba(x[va])[:, 1]
        self.threshold = best_f1_threshold(y, oof)
        self._model = self._new_estimator().fit(x, y)
        self._typical = _typical_values(x)
        return self

    def _fitted(self) -> _Blend:
        if self._model is None:
            raise RuntimeError("the model is not trained")
        return self._model

    def predict_proba(self, records: Sequence[Mapping[str, Any]]) -> np.ndarray:
        return self._fitted().predict_proba(encode(records, self.vocab))[:, 1]

    def predict(self, records: Sequence[Mapping[str, Any]]) -> np.ndarray:
        return self.predict_proba(records) >= self.threshold

    def explain(self, record: Mapping[str, Any], top: int = 3) -> list[Reason]:
        """The features whose actual values raise this record's delay probability the most."""
        model = self._fitted()
        assert self._typical is not None
        row = encode([record], self.vocab)
        base = float(model.predict_proba(row)[0, 1])
        probes = np.repeat(row, len(FEATURE_NAMES), axis=0)
        for j in range(len(FEATURE_NAMES)):
            probes[j, j] = self._typical[j]
        drops = base - model.predict_proba(probes)[:, 1]
        order = np.argsort(-drops)[:top]
        return [
            Reason(
                FEATURE_NAMES[j],
                record.get(FEATURE_NAMES[j]),
                round(float(drops[j]), 4),
                DESCRIPTIONS[FEATURE_NAMES[j]],
            )
            for j in order
            if drops[j] > 0
        ]

    def importance(self, records: Sequence[Mapping[str, Any]]) -> dict[str, float]:
        """Mean absolute effect of each feature over `records` (same ablation as `explain`)."""
        model = self._fitted()
        assert self._typical is not None
        x = encode(records, self.vocab)
        base = model.predict_proba(x)[:, 1]
        out: dict[str, float] = {}
        for j, name in enumerate(FEATURE_NAMES):
            probe = x.copy()
            probe[:, j] = self._typical[j]
            out[name] = float(np.mean(np.abs(base - model.predict_proba(probe)[:, 1])))
        return dict(sorted(out.items(), key=lambda kv: -kv[1]))
