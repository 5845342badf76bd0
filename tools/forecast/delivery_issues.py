"""Per-issue completion probabilities for the delivery model, learned from sprint outcomes only.

TSE2017 issue rows carry no outcome, no points and no key, so an issue's own completion is never
observed; what is observed is its sprint's delivered share of the commitment. The issue model is
therefore fitted by learning from label proportions in its simplest form: every issue of a training
sprint gets that sprint's delivered share (clipped to [0, 1]: the probability that committed work is
done) as a soft label, with a squared loss so that the mean of an issue's predictions estimates the
mean share; a sprint's estimate is the mean of its issues' probabilities (each issue standing for
an equal part of the commitment, since issue points are not recorded). The model sees the issue's own
features only (comments, links, blockers, changes, type, priority, readability): with the sprint's
state as well, its trees can tell the sprints apart and learn each training sprint's label instead
of what makes an issue late; the sprint-level model adds the sprint's state.

Caveat (why there is no *sum* over issues): the issue files list every issue that was ever in the
sprint, including those added after the prediction time (in Spring 98% of sprints have more issue
rows than issues known at the prediction time, and the surplus correlates 0.73 with vel_diff), so any
count or sum over the rows leaks the outcome. A mean over the rows is count-free but still
describes that final set; it is the closest honest form of "predict each issue, then aggregate".

The delivery model uses the estimate as a feature (stacked: the training sprints get out-of-fold
estimates from `cross_fit`, so their own outcome never enters their feature) or, for the "issue
share" variant, directly: delivered = committed x calibrated estimate x the board's factor.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict

ISSUE_NUMERIC = (
    "no_comment",
    "no_affectversion",
    "no_fixversion",
    "no_issuelink",
    "no_blocking",
    "no_blockedby",
    "no_fixversion_change",
    "no_priority_change",
    "no_des_change",
)
ISSUE_CATEGORIES = ("type", "priority", "gunning_fog")
MAX_CODES = 12  # the most frequent labels per category; the rest share one code
CROSS_FOLDS = 3
MIN_SPRINTS = 20  # fewer labelled training sprints: no issue model (the estimate is NaN)


class IssueTable(BaseModel):
    """One row per issue (own features, categories as integer codes) and the index of its sprint."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    x: np.ndarray
    sprint: np.ndarray
    sprints: int  # how many sprints the index refers to

    def take(self, rows: np.ndarray) -> IssueTable:
        """The issues of sprints `rows` (in that order), their sprint index renumbered 0..len(rows)-1."""
        where = {int(s): i for i, s in enumerate(rows)}
        keep = np.asarray([int(s) in where for s in self.sprint], dtype=bool)
        remap = np.asarray([where[int(s)] for s in self.sprint[keep]], dtype=int)
        return IssueTable(x=self.x[keep], sprint=remap, sprints=len(rows))


def issue_table(iterations: Sequence[Any], issues: Sequence[Any]) -> IssueTable:
    """The issues of `iterations` (matched on board and sprint), in the iterations' order."""
    codes: list[dict[str, int]] = []
    for cat in ISSUE_CATEGORIES:
        common = Counter(getattr(i, cat) for i in issues).most_common(MAX_CODES - 1)
        codes.append({k: j for j, (k, _) in enumerate(common)})
    by_sprint: dict[tuple[int, int], list[Any]] = defaultdict(list)
    for i in issues:
        by_sprint[(i.boardid, i.sprintid)].append(i)
    rows: list[list[float]] = []
    index: list[int] = []
    for s, r in enumerate(iterations):
        for i in by_sprint.get((r.boardid, r.sprintid), []):
            own = [float(getattr(i, f)) for f in ISSUE_NUMERIC]
            cats = [
                float(c.get(getattr(i, cat), MAX_CODES - 1))
                for c, cat in zip(codes, ISSUE_CATEGORIES, strict=True)
            ]
            rows.append(own + cats)
            index.append(s)
    width = len(ISSUE_NUMERIC) + len(ISSUE_CATEGORIES)
    x = np.asarray(rows, dtype=float).reshape(-1, width)
    return IssueTable(x=x, sprint=np.asarray(index, dtype=int), sprints=len(iterations))


def delivered_share(y: np.ndarray, committed: np.ndarray) -> np.ndarray:
    """Delivered / committed clipped to [0, 1]; NaN where nothing was committed (no label)."""
    out = np.full(len(y), np.nan)
    pos = committed > 0
    out[pos] = np.clip((y[pos] + committed[pos]) / committed[pos], 0.0, 1.0)
    return out


class IssueShareModel:
    """P(an issue of the sprint is done) from its own features and its sprint's context."""

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self._model: Any = None

    def fit(self, table: IssueTable, share: np.ndarray, weight: np.ndarray) -> IssueShareModel:
        from sklearn.ensemble import HistGradientBoostingRegressor

        labelled = ~np.isnan(share)
        if labelled.sum() < MIN_SPRINTS:
            self._model = None
            return self
        keep = labelled[table.sprint]
        d = table.x[keep]
        counts = np.bincount(table.sprint, minlength=table.sprints).astype(float)
        # each sprint weighs its commitment, shared among its issues: the loss is in points
        w = (weight / np.maximum(counts, 1.0))[table.sprint][keep]
        cats = list(range(len(ISSUE_NUMERIC), len(ISSUE_NUMERIC) + len(ISSUE_CATEGORIES)))
        self._model = HistGradientBoostingRegressor(
            loss="squared_error",
            max_iter=100,
            max_depth=3,
            learning_rate=0.1,
            max_bins=32,
            min_samples_leaf=20,
            categorical_features=cats,
            early_stopping=False,
            random_state=self.seed,
        ).fit(d, share[table.sprint][keep], sample_weight=np.maximum(w, 1e-6))
        return self

    def predict(self, table: IssueTable) -> np.ndarray:
        """Per sprint: the mean of its issues' probabilities (NaN: no issue rows, or no model)."""
        out = np.full(table.sprints, np.nan)
        if self._model is None or not len(table.sprint):
            return out
        p = np.clip(self._model.predict(table.x), 0.0, 1.0)
        total = np.bincount(table.sprint, weights=p, minlength=table.sprints)
        counts = np.bincount(table.sprint, minlength=table.sprints)
        has = counts > 0
        out[has] = total[has] / counts[has]
        return out


def cross_fit(
    table: IssueTable, y: np.ndarray, committed: np.ndarray, seed: int = 0
) -> tuple[np.ndarray, IssueShareModel]:
    """Out-of-fold estimates for the training sprints (CROSS_FOLDS contiguous folds, so no sprint's
    estimate saw its own outcome) and the model fitted on all of them, for new sprints."""
    share = delivered_share(y, committed)
    oof = np.full(len(y), np.nan)
    for fold in np.array_split(np.arange(len(y)), CROSS_FOLDS):
        rest = np.setdiff1d(np.arange(len(y)), fold)
        part = table.take(rest)
        m = IssueShareModel(seed).fit(part, share[rest], committed[rest])
        oof[fold] = m.predict(table.take(fold))
    full = IssueShareModel(seed).fit(table, share, committed)
    return oof, full


class ShareCalibration:
    """Delivered / committed as a monotone function of the estimate (isotonic, weighted by the
    commitment), fitted on out-of-fold estimates: soft labels shrink the estimates towards the mean
    (an issue's label is its whole sprint's share), and delivery can exceed the commitment."""

    def __init__(self) -> None:
        self._iso: Any = None

    def fit(self, share: np.ndarray, ratio: np.ndarray, weight: np.ndarray) -> ShareCalibration:
        from sklearn.isotonic import IsotonicRegression

        ok = ~np.isnan(share) & ~np.isnan(ratio)
        if ok.sum() >= MIN_SPRINTS:
            self._iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0).fit(
                share[ok], ratio[ok], sample_weight=weight[ok]
            )
        return self

    def transform(self, share: np.ndarray) -> np.ndarray:
        if self._iso is None:
            return share
        out = np.full(len(share), np.nan)
        ok = ~np.isnan(share)
        out[ok] = self._iso.predict(share[ok])
        return out


class BoardCalibration:
    """Per board: the median of delivered / (committed x estimate) over its training sprints."""

    def __init__(self) -> None:
        self._factor: dict[int, float] = {}
        self._overall = 1.0

    def fit(self, boards: np.ndarray, delivered: np.ndarray, expected: np.ndarray) -> BoardCalibration:
        ok = expected > 0
        ratio = np.where(ok, delivered / np.where(ok, expected, 1.0), np.nan)
        real = ratio[ok]
        self._overall = float(np.median(real)) if len(real) else 1.0
        by: dict[int, list[float]] = defaultdict(list)
        for b, r in zip(boards[ok], real, strict=True):
            by[int(b)].append(float(r))
        self._factor = {b: float(np.median(v)) for b, v in by.items()}
        return self

    def factor(self, boards: np.ndarray) -> np.ndarray:
        return np.asarray([self._factor.get(int(b), self._overall) for b in boards], dtype=float)
