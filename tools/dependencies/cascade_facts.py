"""What the delay cascade needs of a task, as working-day indices (tools.dependencies.cascade)."""

from __future__ import annotations

from datetime import date

from tools.dependencies.calendar import from_index, to_index, to_index_finish
from tools.dependencies.durations import DurationModel
from tools.dependencies.models import TaskNode

# A finish earlier than any real one: "no prerequisite holds this task up".
NONE = -(1 << 40)

# (duration, its source, planned finish or None, own start, planned finish as a date or None, due_on)
Fact = tuple[int, str, int | None, int, date | None, date | None]


class Facts:
    """Tasks' durations and planned dates as working-day indices, memoised by (start_on, due_on,
    points): a portfolio has far fewer distinct combinations than tasks, and the standard
    `DurationModel.duration` reads nothing else. A model that overrides `duration` is asked per task.

    "Own start" is `start_on`, else `due_on − duration + 1` when it has a due date, else today; the
    planned finish is `due_on`, else start + duration − 1, else none."""

    def __init__(self, durations: DurationModel, today: date) -> None:
        self.duration = durations.duration
        self.today = to_index(today)
        self.shared = type(durations).duration is DurationModel.duration
        self._memo: dict[tuple[date | None, date | None, float | None], Fact] = {}

    def of(self, task: TaskNode) -> Fact:
        if not self.shared:
            return self._compute(task)
        key = (task.start_on, task.due_on, task.points)
        fact = self._memo.get(key)
        if fact is None:
            fact = self._memo[key] = self._compute(task)
        return fact

    def many(self, tasks: list[TaskNode]) -> list[Fact]:
        """`of` for each task (the memo lookup inlined: this runs once per affected task)."""
        if not self.shared:
            return [self._compute(t) for t in tasks]
        memo = self._memo
        found = [memo.get((t.start_on, t.due_on, t.points)) for t in tasks]
        return [f if f is not None else self.of(t) for f, t in zip(found, tasks, strict=True)]

    def _compute(self, task: TaskNode) -> Fact:
        dur, source = self.duration(task)
        due = task.due_on
        if due is not None:
            planned = to_index_finish(due)
            own = planned - dur + 1 if task.start_on is None else to_index(task.start_on)
            return dur, source, planned, own, from_index(planned), due
        if task.start_on is not None:
            start = to_index(task.start_on)
            planned = start + dur - 1
            return dur, source, planned, start, from_index(planned), None
        return dur, source, None, self.today, None, None
