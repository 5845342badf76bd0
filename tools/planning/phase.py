"""A sprint's phase — planned, active or finished — decided once, from its project's dates.

Every agent reads history through this: velocity and forecasts count finished sprints only (a
sprint that has not started yet has 0 points done, which is not a velocity), and a sprint that is
planned or active holds work the planner must not pick again.
"""

from __future__ import annotations

from datetime import date
from typing import Literal, Protocol

SprintPhase = Literal["planned", "active", "finished"]


class Dated(Protocol):
    start_on: date | None
    due_on: date | None
    completed: bool | None


def sprint_phase(project: Dated, today: date) -> SprintPhase:
    """Finished once completed or on/after its due date (the last day is when the next sprint is
    planned, and recorded sprints end the day the next one starts); planned before its start;
    else active.

    A sprint without dates counts as finished: older workspaces (and recorded histories) often
    kept only the name, and treating them as history is what they were used for.
    """
    if project.completed or (project.due_on is not None and project.due_on <= today):
        return "finished"
    if project.start_on is not None and project.start_on > today:
        return "planned"
    if project.start_on is None and project.due_on is None:
        return "finished"
    return "active"
