"""A time-ordered backtest of the estimator on a team's finished tasks.

Each finished task is estimated with an index of only the tasks finished before it (what the
estimator would have known then), so the error is an honest out-of-sample one: no task ever sees
itself or its future. The index grows incrementally in completion order, one `add` per task.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from tools.estimation.estimator import StoryPointEstimator
from tools.estimation.models import EstimatorConfig, PastTask

MIN_HISTORY = 5  # fewer earlier tasks than this: the "estimate" would be a guess, not a backtest


@dataclass(frozen=True)
class BacktestRow:
    task: PastTask
    finished_at: datetime
    estimate: float
    history: int  # tasks finished before it (the index it was estimated with)

    @property
    def error(self) -> float:
        """Estimate minus actual points (positive: the estimate was high)."""
        return self.estimate - self.task.points


def time_ordered_backtest(
    finished: Sequence[tuple[PastTask, datetime]],
    *,
    config: EstimatorConfig | None = None,
    min_history: int = MIN_HISTORY,
) -> list[BacktestRow]:
    """Estimate each task from the tasks finished strictly before it, oldest first; the first
    `min_history` tasks (and ties with the task itself) only build the index. ``config=None``: the
    product's default configuration (the one triage estimates with), or its fallback."""
    ordered = sorted(finished, key=lambda pair: (pair[1], pair[0].id))
    estimator = StoryPointEstimator(config)
    rows: list[BacktestRow] = []
    pending: list[PastTask] = []  # finished at the same instant as the task being estimated
    last: datetime | None = None
    for task, at in ordered:
        if last is not None and at > last:
            estimator.add(pending)
            pending = []
        last = at
        if len(estimator) >= min_history:
            estimate = estimator.estimate(task.title, task.description)
            rows.append(BacktestRow(task, at, estimate.points, len(estimator)))
        pending.append(task)
    return rows
