"""A board's own recent history as a sequence: features of its *earlier* sprints for the delivery model.

Every value for a sprint comes from sprints of the same board with a lower sprintid, whose outcomes
are known when the sprint is predicted (TSE2017 rows carry no dates; sprintid approximates time).
Besides the level (medians, means), the sequence features describe how the board has been moving:
rolling means and spreads of its last sprints, a trend over them, how often it delivered nothing,
and how this sprint's commitment compares with what the board usually delivers.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np

# Level features (the first seven were the model's history before issue 22).
HISTORY_FIELDS = (
    "hist_n",
    "hist_last_diff",
    "hist_mean3_diff",
    "hist_median_diff",
    "hist_last_delivered",
    "hist_median_delivered",
    "hist_median_ratio",
)
SEQUENCE_FIELDS = (
    "seq_mean5_diff",
    "seq_std5_diff",
    "seq_ewm_diff",
    "seq_mean3_delivered",
    "seq_std5_delivered",
    "seq_trend5_delivered",
    "seq_zero_share",
    "seq_zero_share3",
    "seq_last_ratio",
    "seq_mean3_ratio",
    "seq_median_committed",
    "seq_team_change",
    "seq_ratio_implied_diff",
    "seq_commit_over_median_delivered",
    "seq_commit_minus_mean3_delivered",
)
WINDOW = 5
EWM_ALPHA = 0.5  # half the weight on the last sprint: recent sprints say most about the next


def committed_points(row: Any) -> float:
    return float(row.vel_starttime + row.vel_added - row.vel_removed)


def _trend(values: Sequence[float]) -> float:
    """Least-squares slope per sprint over the values (NaN with fewer than three)."""
    if len(values) < 3:
        return float("nan")
    t = np.arange(len(values), dtype=float)
    return float(np.polyfit(t, np.asarray(values, dtype=float), 1)[0])


def _ewm(values: Sequence[float]) -> float:
    level = values[0]
    for v in values[1:]:
        level = EWM_ALPHA * v + (1 - EWM_ALPHA) * level
    return float(level)


def _std(values: Sequence[float]) -> float:
    return statistics.pstdev(values) if len(values) >= 2 else float("nan")


def _level(diffs: list[float], delivered: list[float], ratios: list[float]) -> list[float]:
    return [
        float(len(diffs)),
        diffs[-1],
        statistics.fmean(diffs[-3:]),
        statistics.median(diffs),
        delivered[-1],
        statistics.median(delivered),
        statistics.median(ratios) if ratios else float("nan"),
    ]


def _sequence(
    row: Any, past: list[Any], diffs: list[float], delivered: list[float], ratios: list[float]
) -> list[float]:
    committed = committed_points(row)
    last_w = diffs[-WINDOW:]
    deliv_w = delivered[-WINDOW:]
    median_ratio = statistics.median(ratios) if ratios else float("nan")
    median_delivered = statistics.median(delivered)
    return [
        statistics.fmean(last_w),
        _std(last_w),
        _ewm(diffs),
        statistics.fmean(delivered[-3:]),
        _std(deliv_w),
        _trend(deliv_w),
        sum(d == 0 for d in delivered) / len(delivered),
        sum(d == 0 for d in delivered[-3:]) / len(delivered[-3:]),
        ratios[-1] if ratios else float("nan"),
        statistics.fmean(ratios[-3:]) if ratios else float("nan"),
        statistics.median(committed_points(r) for r in past),
        float(row.no_teammember - past[-1].no_teammember),
        committed * median_ratio - committed,
        committed / median_delivered if median_delivered > 0 else float("nan"),
        committed - statistics.fmean(delivered[-3:]),
    ]


def board_history(iterations: Sequence[Any]) -> dict[tuple[int, int], list[float]]:
    """(board, sprint) -> level + sequence features of the board's earlier sprints (NaN when none)."""
    by_board: dict[int, list[Any]] = defaultdict(list)
    for r in iterations:
        by_board[r.boardid].append(r)
    width = len(HISTORY_FIELDS) + len(SEQUENCE_FIELDS)
    out: dict[tuple[int, int], list[float]] = {}
    for board, rows in by_board.items():
        rows.sort(key=lambda r: r.sprintid)
        diffs: list[float] = []
        delivered: list[float] = []
        ratios: list[float] = []
        for i, r in enumerate(rows):
            if diffs:
                out[(board, r.sprintid)] = _level(diffs, delivered, ratios) + _sequence(
                    r, rows[:i], diffs, delivered, ratios
                )
            else:
                out[(board, r.sprintid)] = [0.0] + [float("nan")] * (width - 1)
            committed = committed_points(r)
            diffs.append(float(r.vel_diff))
            delivered.append(committed + float(r.vel_diff))
            if committed > 0:
                ratios.append((committed + float(r.vel_diff)) / committed)
    return out
