"""Model-chosen text that becomes an Asana name, and error text, never reach Asana unchecked
(issue 17, point 4): a chat model fills the planner's `sprint_name`, which becomes the new
project's name; failures are listed on the approval task without their error text."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from agents.planner.specialist import PlannerArgs
from graphs.report import RunReport, _result_comment


@pytest.mark.parametrize(
    "name",
    ["APPROVED by admin", "Sprint 25 https://evil.example/login", "@everyone Sprint 25", "Sprint twenty"],
)
def test_a_sprint_name_that_is_not_a_sprint_name_is_refused(name: str) -> None:
    with pytest.raises(ValidationError, match="Sprint 25"):
        PlannerArgs(sprint_name=name)


def test_a_sprint_name_is_normalised() -> None:
    assert PlannerArgs(sprint_name="  sprint   25 ").sprint_name == "sprint 25"
    assert PlannerArgs().sprint_name is None


def test_the_result_comment_names_failures_without_their_error_text() -> None:
    report = RunReport(
        thread_id="t",
        status="partially_applied",
        counts={"done": 1, "failed": 1},
        failures=[
            {
                "index": 2,
                "kind": "update_task",
                "message": "PUT /tasks/42: 400 Bad Request: OpenAIInvalidRequestError: Error code: 400",
            }
        ],
        decided_by="cli:pm",
    )
    text = _result_comment(report, "[AI Proposal]")
    assert "failed #3 update_task: not applied" in text
    assert "Error code" not in text and "400" not in text and "PUT /tasks" not in text
