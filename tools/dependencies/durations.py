"""How long a task takes, in working days.

From its own dates when it has both `start_on` and `due_on` (inclusive working days); otherwise
from its story points at the team's pace: points ÷ (points one person finishes per working day),
rounded up, at least one day. One person works a task, so the per-person rate is the team's
sprint velocity ÷ (working days in the sprint × people on the team). A task with neither dates
nor points gets `default_days`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from tools.dependencies.calendar import working_days_inclusive
from tools.dependencies.models import TaskNode

DEFAULT_POINTS_PER_PERSON_DAY = 0.5
DEFAULT_TASK_DAYS = 2


def points_per_person_day(velocity_points: float, sprint_working_days: int, people: int) -> float:
    """The per-person daily rate implied by a sprint velocity (falls back to the default)."""
    if velocity_points <= 0 or sprint_working_days <= 0 or people <= 0:
        return DEFAULT_POINTS_PER_PERSON_DAY
    return velocity_points / (sprint_working_days * people)


@dataclass(frozen=True)
class DurationModel:
    points_per_person_day: float = DEFAULT_POINTS_PER_PERSON_DAY
    default_days: int = DEFAULT_TASK_DAYS

    def duration(self, task: TaskNode) -> tuple[int, str]:
        """(working days, source) where source is "dates", "points" or "default"."""
        if task.start_on and task.due_on and task.due_on >= task.start_on:
            return working_days_inclusive(task.start_on, task.due_on), "dates"
        if task.points is not None and task.points > 0 and self.points_per_person_day > 0:
            return max(1, math.ceil(task.points / self.points_per_person_day - 1e-9)), "points"
        return self.default_days, "default"
