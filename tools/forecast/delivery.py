"""The sprint-delivery model: predict, at a point of the sprint, how many points will really be delivered.

Target = ``vel_diff`` (delivered minus committed at the prediction time), as in Choetkiertikul et al.
(TSE 2017); delivered = committed + prediction. Features are only what is known at that time: the
sprint's own state (scope at start, added/removed, to-do/in-progress/done), per-sprint aggregates of
its issues, and the board's history of *earlier* sprints as a sequence (their outcomes are known by
then; tools/forecast/delivery_history.py), optionally statistics of the board's training sprints
(tools/forecast/delivery_boards.py), optionally the mean per-issue completion probability
(tools/forecast/delivery_issues.py). Counts and sums over a sprint's issue rows are left out: the
issue files include the issues added after the prediction time (COUNT_FIELDS). The model is gradient
boosting with an absolute-error loss (the published family) with hyper-parameters fixed a priori; a
`Variant` fixes the feature set and the target, and which variant to use is chosen on training data
only (tools/forecast/delivery_select.py).
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from tools.forecast.delivery_boards import BoardStats
from tools.forecast.delivery_history import HISTORY_FIELDS, SEQUENCE_FIELDS, board_history, committed_points
from tools.forecast.delivery_hurdle import Combine, HurdleModel
from tools.forecast.delivery_issues import (
    ISSUE_NUMERIC,
    BoardCalibration,
    IssueShareModel,
    IssueTable,
    ShareCalibration,
    cross_fit,
)

ITERATION_FIELDS = (
    "planday",
    "no_issue_starttime",
    "vel_starttime",
    "no_issue_added",
    "vel_added",
    "no_issue_removed",
    "vel_removed",
    "no_issuetodo",
    "vel_todo",
    "no_issueinprogress",
    "vel_inprogress",
    "no_issuedone",
    "vel_done",
    "no_admin",
    "no_teammember",
)
MAX_CATEGORIES = 8
# Count-dependent issue aggregates. The issue files list every issue ever in the sprint, including
# those added after the prediction time, so these leak the outcome (tools/forecast/delivery_issues.py).
COUNT_FIELDS = ("issues_n", "sum_no_blocking", "sum_no_blockedby", "sum_no_issuelink")


def _issue_vocab(issues: Sequence[Any]) -> tuple[list[str], list[str], list[str]]:
    """The most frequent issue types/priorities/readability labels (fixed per project, not per fold)."""
    types = [k for k, _ in Counter(i.type for i in issues).most_common(MAX_CATEGORIES)]
    prios = [k for k, _ in Counter(i.priority for i in issues).most_common(MAX_CATEGORIES)]
    fog = [k for k, _ in Counter(i.gunning_fog for i in issues).most_common(MAX_CATEGORIES)]
    return types, prios, fog


def build_features(iterations: Sequence[Any], issues: Sequence[Any]) -> tuple[np.ndarray, list[str]]:
    """One row per iteration (same order): sprint state, issue aggregates, board history."""
    types, prios, fog = _issue_vocab(issues)
    grouped: dict[tuple[int, int], list[Any]] = defaultdict(list)
    for i in issues:
        grouped[(i.boardid, i.sprintid)].append(i)
    history = board_history(iterations)
    names = [
        *ITERATION_FIELDS,
        "committed",
        "done_share",
        "todo_share",
        "added_share",
        "points_per_member",
        "issues_n",
        *(f"mean_{n}" for n in ISSUE_NUMERIC),
        *(f"sum_{n}" for n in ("no_blocking", "no_blockedby", "no_issuelink")),
        *(f"type_{t}" for t in types),
        *(f"prio_{p}" for p in prios),
        *(f"fog_{f}" for f in fog),
        *HISTORY_FIELDS,
        *SEQUENCE_FIELDS,
    ]
    rows: list[list[float]] = []
    for r in iterations:
        committed = committed_points(r)
        base = [float(getattr(r, f)) for f in ITERATION_FIELDS]
        denom = committed if committed > 0 else float("nan")
        derived = [
            committed,
            r.vel_done / denom,
            r.vel_todo / denom,
            r.vel_added / denom,
            committed / max(r.no_teammember, 1),
        ]
        its = grouped.get((r.boardid, r.sprintid), [])
        n = len(its)
        agg = [float(n)]
        agg += [statistics.fmean(getattr(i, f) for i in its) if its else float("nan") for f in ISSUE_NUMERIC]
        agg += [
            float(sum(getattr(i, f) for i in its)) for f in ("no_blocking", "no_blockedby", "no_issuelink")
        ]
        agg += [sum(i.type == t for i in its) / n if n else float("nan") for t in types]
        agg += [sum(i.priority == p for i in its) / n if n else float("nan") for p in prios]
        agg += [sum(i.gunning_fog == g for i in its) / n if n else float("nan") for g in fog]
        rows.append(base + derived + agg + history[(r.boardid, r.sprintid)])
    return np.asarray(rows, dtype=float), names


class Variant(BaseModel):
    """One candidate model: which features, which target, which learner (all fixed before any test).

    target "diff" learns vel_diff directly; "delivered" learns the delivered points and subtracts the
    commitment; "ratio" learns the delivered share of the commitment with the commitment as sample
    weight, so that its absolute error is exactly the absolute error in points (c * |r - r_hat| =
    |y - y_hat|): delivery is roughly proportional to what was committed, which additive trees on
    points fit only piecewise. Sprints with nothing committed get their own model of the points.
    "issues" predicts delivered = committed x the mean per-issue completion probability x the board's
    calibration factors (tools/forecast/delivery_issues.py); `issue_share` adds that estimate (out of
    fold for training sprints) as a feature instead. `issue_counts` keeps the count-dependent issue
    aggregates, which leak the outcome (COUNT_FIELDS): only to compare with the models before.
    "hurdle" is the two-part model of tools/forecast/delivery_hurdle.py (P(delivers nothing), then
    quantiles of a positive delivery), its point forecast chosen by `combine`.
    """

    model_config = ConfigDict(frozen=True)

    name: str = Field(pattern=r"^[^,]+$")  # no comma: names are given as a comma-separated list
    sequence: bool = True
    target: Literal["diff", "delivered", "ratio", "issues", "hurdle"] = "diff"
    boards: bool = False  # add each board's training-sprint statistics (tools/forecast/delivery_boards)
    learner: Literal["hgb", "gbr"] = "hgb"
    issue_share: bool = False
    issue_counts: bool = False
    combine: Combine = "mixture"  # hurdle only: the mixture's median, or 0 when P(nothing) > 0.5


VARIANTS: tuple[Variant, ...] = (
    Variant(name="sequence history"),
    Variant(name="ratio target", target="ratio"),
    Variant(name="board stats", boards=True),
    Variant(name="board stats ratio target", target="ratio", boards=True),
)
# Tried in development and left out of the candidates to save fits on this shared machine (each
# candidate costs a fit per inner and outer fold); `eval sprints --variants` still runs them.
LEVEL_VARIANT = Variant(name="level history", sequence=False)
DELIVERED_VARIANT = Variant(name="delivered target", target="delivered")
# Per-issue completion probabilities (tools/forecast/delivery_issues.py): alone, and stacked.
ISSUE_VARIANT = Variant(name="issue probabilities", target="issues")
ISSUE_STACK_VARIANT = Variant(name="ratio target issue probabilities", target="ratio", issue_share=True)
# With the leaking issue counts: only to show how much of the earlier numbers they made.
COUNTS_VARIANT = Variant(name="ratio target with issue counts", target="ratio", issue_counts=True)
# The model before issue 22 (kept to compare against; slower, so not among the candidates).
LEGACY_VARIANT = Variant(name="legacy GBR", sequence=False, learner="gbr", issue_counts=True)
# The two-part model (issue 22): "delivers nothing?" then how much (tools/forecast/delivery_hurdle.py).
HURDLE_VARIANTS = (
    Variant(name="hurdle threshold", target="hurdle", combine="threshold"),
    Variant(name="hurdle mixture", target="hurdle"),
    Variant(name="hurdle mixture issue probabilities", target="hurdle", issue_share=True),
)
EXTRA_VARIANTS = (
    *HURDLE_VARIANTS,
    LEVEL_VARIANT,
    DELIVERED_VARIANT,
    ISSUE_VARIANT,
    ISSUE_STACK_VARIANT,
    COUNTS_VARIANT,
    LEGACY_VARIANT,
)
DEFAULT_VARIANT = VARIANTS[0]
MIN_ROWS = 20  # fewer training rows than this: a constant (their median) instead of a learner


def _learner(variant: Variant, seed: int) -> Any:
    from sklearn.ensemble import GradientBoostingRegressor, HistGradientBoostingRegressor

    if variant.learner == "gbr":
        return GradientBoostingRegressor(
            loss="absolute_error",
            n_estimators=200,
            max_depth=3,
            learning_rate=0.05,
            subsample=0.8,
            random_state=seed,
        )
    # 100 rounds at 0.1 and 32 bins: close to 200 rounds at 0.05 for a fraction of the time, which
    # the nested selection (several fits per outer fold) needs on a shared 2-core machine.
    return HistGradientBoostingRegressor(
        loss="absolute_error",
        max_iter=100,
        max_depth=3,
        learning_rate=0.1,
        max_bins=32,
        min_samples_leaf=10,
        early_stopping=False,
        random_state=seed,
    )


class _Constant:
    def __init__(self, value: float) -> None:
        self.value = value

    def predict(self, x: np.ndarray) -> np.ndarray:
        return np.full(len(x), self.value)


class DeliveryModel:
    """Gradient boosting with an absolute-error loss (the published family) on one `Variant`.

    Hyper-parameters are fixed a priori (never tuned on test folds). The learner is pooled across the
    project's boards; the board-level features (its history) let it treat boards differently.
    """

    def __init__(self, seed: int = 0, variant: Variant = LEGACY_VARIANT) -> None:
        self.seed = seed
        self.variant = variant
        self._model: Any = None
        self._uncommitted: Any = None
        self._columns: np.ndarray | None = None
        self._committed = len(ITERATION_FIELDS)
        self._board_stats = BoardStats()
        self._issues: IssueShareModel | None = None
        self._calibration = BoardCalibration()
        self._share_calibration = ShareCalibration()
        self._hurdle: HurdleModel | None = None

    @property
    def _uses_issues(self) -> bool:
        return self.variant.issue_share or self.variant.target == "issues"

    def _design(self, x: np.ndarray, stats: np.ndarray | None, share: np.ndarray | None) -> np.ndarray:
        cols = x if self._columns is None else x[:, self._columns]
        if stats is not None:
            cols = np.hstack([cols, stats])
        if share is not None and self.variant.issue_share:
            committed = x[:, self._committed]
            cols = np.hstack([cols, share[:, None], (committed * share - committed)[:, None]])
        # GBR cannot take NaN and HGB fails on an all-NaN column of a small subset: -1 (never a valid
        # count or share) stands for "missing" and is split off cleanly by trees.
        return np.asarray(np.nan_to_num(cols, nan=-1.0), dtype=float)

    def _fit_one(self, d: np.ndarray, target: np.ndarray, weight: np.ndarray | None = None) -> Any:
        if len(target) < MIN_ROWS:
            return _Constant(float(np.median(target)) if len(target) else 0.0)
        return _learner(self.variant, self.seed).fit(d, target, sample_weight=weight)

    def _share(self, x: np.ndarray, issues: IssueTable | None) -> np.ndarray:
        if issues is None:
            raise ValueError(f"variant {self.variant.name!r} needs the sprints' issue rows")
        if self._issues is None:
            return np.full(len(x), np.nan)
        return self._issues.predict(issues)

    def fit(
        self,
        x: np.ndarray,
        y: np.ndarray,
        names: Sequence[str] | None = None,
        boards: np.ndarray | None = None,
        issues: IssueTable | None = None,
    ) -> DeliveryModel:
        """`boards` (each sprint's board id) is needed by variants with board statistics or per-board
        calibration, `issues` (the sprints' issue rows, in the order of `x`) by the issue variants."""
        self._columns = _columns(names, self.variant) if names is not None else None
        self._committed = _committed_index(names)
        committed = x[:, self._committed]
        stats = None
        if self.variant.boards:
            if boards is None:
                raise ValueError(f"variant {self.variant.name!r} needs each sprint's board")
            self._board_stats = BoardStats()
            stats = self._board_stats.fit_transform(boards, y, committed)
        share = None
        if self._uses_issues:
            if issues is None:
                raise ValueError(f"variant {self.variant.name!r} needs the sprints' issue rows")
            share, self._issues = cross_fit(issues, y, committed, self.seed)
        d = self._design(x, stats, share)
        if self.variant.target == "issues" and share is not None:
            pos = committed > 0
            ratio = np.full(len(y), np.nan)
            ratio[pos] = (y[pos] + committed[pos]) / committed[pos]
            self._share_calibration = ShareCalibration().fit(share, ratio, committed)
            expected = committed * np.nan_to_num(self._share_calibration.transform(share), nan=0.0)
            b = boards if boards is not None else np.zeros(len(y), dtype=int)
            self._calibration = BoardCalibration().fit(b, y + committed, expected)
            self._uncommitted = self._fit_one(d, y)  # sprints without an estimate
        elif self.variant.target == "hurdle":
            self._hurdle = HurdleModel(self.seed, self.variant.combine).fit(d, y, committed)
        elif self.variant.target == "ratio":
            pos = committed > 0
            self._model = self._fit_one(d[pos], (y[pos] + committed[pos]) / committed[pos], committed[pos])
            self._uncommitted = self._fit_one(d[~pos], y[~pos])
        else:
            target = y + committed if self.variant.target == "delivered" else y
            self._model = self._fit_one(d, target)
        return self

    def predict(
        self,
        x: np.ndarray,
        boards: np.ndarray | None = None,
        issues: IssueTable | None = None,
        *,
        combine: Combine | None = None,
    ) -> np.ndarray:
        """vel_diff per sprint. `combine` (hurdle variants only) overrides the variant's way to turn
        the mixture into a point forecast: an eval can score both from one fit."""
        if self._model is None and self._uncommitted is None and self._hurdle is None:
            raise RuntimeError("fit the model first")
        committed = x[:, self._committed]
        d, share = self._predict_design(x, boards, issues)
        if self._hurdle is not None:
            return self._hurdle.predict(d, committed, combine)
        if self.variant.target == "issues" and share is not None:
            b = boards if boards is not None else np.zeros(len(x), dtype=int)
            pred = np.asarray(self._uncommitted.predict(d), dtype=float)
            ok = (committed > 0) & ~np.isnan(share)
            calibrated = self._share_calibration.transform(share)
            delivered = committed * calibrated * self._calibration.factor(b)
            pred[ok] = delivered[ok] - committed[ok]
            return pred
        if self.variant.target == "ratio":
            pred = np.zeros(len(x))
            pos = committed > 0
            if pos.any():
                pred[pos] = committed[pos] * (self._model.predict(d[pos]) - 1.0)
            if (~pos).any():
                pred[~pos] = self._uncommitted.predict(d[~pos])
            return pred
        pred = np.asarray(self._model.predict(d), dtype=float)
        return pred - committed if self.variant.target == "delivered" else pred

    def _predict_design(
        self, x: np.ndarray, boards: np.ndarray | None, issues: IssueTable | None
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """The design matrix of sprints to predict, and their issue estimate (None: not used)."""
        stats = None
        if self.variant.boards:
            if boards is None:
                raise ValueError(f"variant {self.variant.name!r} needs each sprint's board")
            stats = self._board_stats.transform(boards)
        share = self._share(x, issues) if self._uses_issues else None
        return self._design(x, stats, share), share

    def predict_quantiles(
        self,
        x: np.ndarray,
        taus: Sequence[float],
        boards: np.ndarray | None = None,
        issues: IssueTable | None = None,
    ) -> np.ndarray:
        """vel_diff quantiles at `taus`, (rows, taus): only the hurdle variants model a distribution."""
        if self._hurdle is None:
            raise ValueError(
                f"variant {self.variant.name!r} gives point forecasts only (fit a hurdle variant)"
            )
        committed = x[:, self._committed]
        d, _ = self._predict_design(x, boards, issues)
        out = self._hurdle.delivered_quantiles(d, committed, taus) - committed[:, None]
        return np.asarray(out, dtype=float)


def _committed_index(names: Sequence[str] | None) -> int:
    return list(names).index("committed") if names is not None else len(ITERATION_FIELDS)


def _columns(names: Sequence[str], variant: Variant) -> np.ndarray:
    drop = set() if variant.sequence else set(SEQUENCE_FIELDS)
    if not variant.issue_counts:
        drop |= set(COUNT_FIELDS)
    return np.asarray([i for i, n in enumerate(names) if n not in drop], dtype=int)


def naive_predictions(
    train: Sequence[Any], test: Sequence[Any], everything: Sequence[Any]
) -> dict[str, np.ndarray]:
    """The naive baselines for vel_diff: zero, train mean/median, the board's train median, last sprint.

    "Last sprint" is the previous sprint (by sprintid) of the same board in the whole project (its
    outcome is known at the prediction time); with none, the train median.
    """
    ytr = np.asarray([r.vel_diff for r in train], dtype=float)
    med = float(np.median(ytr))
    by_board: dict[int, list[float]] = defaultdict(list)
    for r in train:
        by_board[r.boardid].append(float(r.vel_diff))
    board_med = {b: float(np.median(v)) for b, v in by_board.items()}
    previous: dict[tuple[int, int], float] = {}
    ordered: dict[int, list[Any]] = defaultdict(list)
    for r in everything:
        ordered[r.boardid].append(r)
    for b, rows in ordered.items():
        rows.sort(key=lambda r: r.sprintid)
        for a, c in zip(rows, rows[1:], strict=False):
            previous[(b, c.sprintid)] = float(a.vel_diff)
    n = len(test)
    return {
        "zero": np.zeros(n),
        "mean": np.full(n, float(np.mean(ytr))),
        "median": np.full(n, med),
        "board median": np.asarray([board_med.get(r.boardid, med) for r in test]),
        "last sprint": np.asarray([previous.get((r.boardid, r.sprintid), med) for r in test]),
    }
