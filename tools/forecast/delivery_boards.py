"""Board-level target statistics for a model pooled across boards: how each board's sprints turned out.

Fitted on the training sprints only. A training sprint sees its board's *other* training sprints
(leave-one-out, so its own outcome never leaks into its features); a sprint to predict sees all of
its board's training sprints (none: NaN). Under 10-fold CV those include later sprints of the board,
as the board-median baseline's do; under forward chaining they are all earlier.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

BOARD_FIELDS = ("board_n", "board_median_diff", "board_median_ratio", "board_zero_share")


def _stats(diff: np.ndarray, delivered: np.ndarray, committed: np.ndarray) -> list[float]:
    if not len(diff):
        return [0.0] + [float("nan")] * (len(BOARD_FIELDS) - 1)
    pos = committed > 0
    ratio = delivered[pos] / committed[pos]
    return [
        float(len(diff)),
        float(np.median(diff)),
        float(np.median(ratio)) if len(ratio) else float("nan"),
        float(np.mean(delivered == 0)),
    ]


class BoardStats:
    def __init__(self) -> None:
        self._by_board: dict[int, list[float]] = {}

    def fit_transform(self, boards: np.ndarray, diff: np.ndarray, committed: np.ndarray) -> np.ndarray:
        """Leave-one-out statistics for the training sprints; remembers the full ones for `transform`."""
        delivered = diff + committed
        rows: dict[int, list[int]] = defaultdict(list)
        for i, b in enumerate(boards):
            rows[int(b)].append(i)
        out = np.empty((len(diff), len(BOARD_FIELDS)))
        for b, idx in rows.items():
            ix = np.asarray(idx)
            self._by_board[b] = _stats(diff[ix], delivered[ix], committed[ix])
            for j, i in enumerate(ix):
                others = np.delete(ix, j)
                out[i] = _stats(diff[others], delivered[others], committed[others])
        return out

    def transform(self, boards: np.ndarray) -> np.ndarray:
        empty = _stats(np.empty(0), np.empty(0), np.empty(0))
        return np.asarray([self._by_board.get(int(b), empty) for b in boards], dtype=float)
