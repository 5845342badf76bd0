"""A sprint's phase — planned, active or finished — decided once, from its project's dates.

Every agent reads sprints through this: velocity and forecasts learn from sprints that have
ended (a sprint that has not started has 0 points done, which is not a velocity), the planner
never picks work committed to a planned or active sprint, stand-ups are for the active sprint,
and a retro is for a sprint that has ended.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Literal, Protocol

SprintPhase = Literal["planned", "active", "finished"]
SPRINT_NAME = re.compile(r"^\s*sprint\s+(\d+)\s*$", re.IGNORECASE)


class Dated(Protocol):
    start_on: date | None
    due_on: date | None
    completed: bool | None


def is_sprint_name(name: str | None) -> bool:
    return bool(SPRINT_NAME.match(name or ""))


def sprint_phase(project: Dated, today: date) -> SprintPhase:
    """Planned before its start date, active from its start through its last day, finished after
    (or once completed). A sprint without dates counts as finished: older workspaces and recorded
    histories often kept only the name, and treating them as history is what they were for."""
    if project.completed:
        return "finished"
    if project.start_on is None and project.due_on is None:
        return "finished"
    if project.due_on is not None and project.due_on < today:
        return "finished"
    if project.start_on is not None and project.start_on > today:
        return "planned"
    return "active"


def has_ended(project: Dated, today: date) -> bool:
    """Finished, or on its last day: the day the next sprint is planned and the retro is held
    (recorded sprints end the day the next one starts)."""
    return sprint_phase(project, today) == "finished" or project.due_on == today
