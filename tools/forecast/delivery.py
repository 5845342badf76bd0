"""The sprint-delivery model: predict, at a point of the sprint, how many points will really be delivered.

Target = ``vel_diff`` (delivered minus committed at the prediction time), as in Choetkiertikul et al.
(TSE 2017); delivered = committed + prediction. Features are only what is known at that time: the
sprint's own state (scope at start, added/removed, to-do/in-progress/done), per-sprint aggregates of
its issues, and the board's history of *earlier* sprints (their outcomes are known by then).
The model is gradient boosting with an absolute-error loss (the published family) with
hyper-parameters fixed a priori; nothing is tuned on test data.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np

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
HISTORY_FIELDS = (
    "hist_n",
    "hist_last_diff",
    "hist_mean3_diff",
    "hist_median_diff",
    "hist_last_delivered",
    "hist_median_delivered",
    "hist_median_ratio",
)
MAX_CATEGORIES = 8


def _committed(row: Any) -> float:
    return float(row.vel_starttime + row.vel_added - row.vel_removed)


def _issue_vocab(issues: Sequence[Any]) -> tuple[list[str], list[str], list[str]]:
    """The most frequent issue types/priorities/readability labels (fixed per project, not per fold)."""
    types = [k for k, _ in Counter(i.type for i in issues).most_common(MAX_CATEGORIES)]
    prios = [k for k, _ in Counter(i.priority for i in issues).most_common(MAX_CATEGORIES)]
    fog = [k for k, _ in Counter(i.gunning_fog for i in issues).most_common(MAX_CATEGORIES)]
    return types, prios, fog


def _history(iterations: Sequence[Any]) -> dict[tuple[int, int], list[float]]:
    """Per sprint, statistics of the earlier sprints (lower sprintid) of the same board."""
    by_board: dict[int, list[Any]] = defaultdict(list)
    for r in iterations:
        by_board[r.boardid].append(r)
    out: dict[tuple[int, int], list[float]] = {}
    for board, rows in by_board.items():
        rows.sort(key=lambda r: r.sprintid)
        diffs: list[float] = []
        delivered: list[float] = []
        ratios: list[float] = []
        for r in rows:
            if diffs:
                out[(board, r.sprintid)] = [
                    float(len(diffs)),
                    diffs[-1],
                    statistics.fmean(diffs[-3:]),
                    statistics.median(diffs),
                    delivered[-1],
                    statistics.median(delivered),
                    statistics.median(ratios) if ratios else float("nan"),
                ]
            else:
                out[(board, r.sprintid)] = [0.0] + [float("nan")] * (len(HISTORY_FIELDS) - 1)
            committed = _committed(r)
            diffs.append(float(r.vel_diff))
            delivered.append(committed + float(r.vel_diff))
            if committed > 0:
                ratios.append((committed + float(r.vel_diff)) / committed)
    return out


def build_features(iterations: Sequence[Any], issues: Sequence[Any]) -> tuple[np.ndarray, list[str]]:
    """One row per iteration (same order): sprint state, issue aggregates, board history."""
    types, prios, fog = _issue_vocab(issues)
    grouped: dict[tuple[int, int], list[Any]] = defaultdict(list)
    for i in issues:
        grouped[(i.boardid, i.sprintid)].append(i)
    history = _history(iterations)
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
    ]
    rows: list[list[float]] = []
    for r in iterations:
        committed = _committed(r)
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


class DeliveryModel:
    """Stochastic gradient boosting on vel_diff with absolute-error loss (the published family).

    Hyper-parameters are fixed a priori (never tuned on test folds); missing aggregates (a sprint
    without issues, a board's first sprint) are encoded as -1, which trees separate cleanly.
    """

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self._model: Any = None

    def fit(self, x: np.ndarray, y: np.ndarray) -> DeliveryModel:
        from sklearn.ensemble import GradientBoostingRegressor

        self._model = GradientBoostingRegressor(
            loss="absolute_error",
            n_estimators=200,
            max_depth=3,
            learning_rate=0.05,
            subsample=0.8,
            random_state=self.seed,
        ).fit(np.nan_to_num(x, nan=-1.0), y)
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        if self._model is None:
            raise RuntimeError("fit the model first")
        return np.asarray(self._model.predict(np.nan_to_num(x, nan=-1.0)), dtype=float)


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
