"""A plan made while the latest sprint has not started plans the sprint after it, and says so:
a second `plan` after an approved one proposed "Sprint 25" with no word that Sprint 24 was
already planned and not started."""

from __future__ import annotations

from datetime import date

from agents.planner.inputs import PastSprint, PlanningInputs
from agents.planner.proposal import _ahead_lines
from tools.asana.models import Project


def _inputs(start_on: date | None) -> PlanningInputs:
    sprint = PastSprint.model_construct(
        number=24, project=Project(gid="1", name="Sprint 24", start_on=start_on), phase="planned"
    )
    return PlanningInputs.model_construct(sprints=[sprint])


def test_a_sprint_not_started_yet_is_named() -> None:
    assert _ahead_lines(_inputs(date(2026, 12, 7)), date(2026, 12, 6)) == [
        "- Ahead: Sprint 24 is already planned and starts 2026-12-07; this plans the sprint after it."
    ]


def test_nothing_is_said_once_it_started_or_without_a_date() -> None:
    assert _ahead_lines(_inputs(date(2026, 12, 7)), date(2026, 12, 7)) == []
    assert _ahead_lines(_inputs(None), date(2026, 12, 6)) == []
    assert _ahead_lines(PlanningInputs.model_construct(sprints=[]), date(2026, 12, 6)) == []
