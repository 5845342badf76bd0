"""Issue 16, the planned sprint project: plan → approve → `risk --project "Sprint 24"` writes Risk
Scores on the new sprint's tasks (it failed with "Risk Score is not on project": the project had no
custom fields), and the project is owned by a person and has the team's columns, no "Untitled
section". Embedded sandbox, separate CLI invocations."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from service.cli.main import app
from service.runtime import open_runtime
from service.settings import load_settings
from tools.asana.field_names import (
    AI_PRIORITY_SCORE,
    ESTIMATED_STORY_POINTS,
    RISK_SCORE,
    SPRINT,
    STORY_POINTS,
)

runner = CliRunner()


pytestmark = pytest.mark.usefixtures("offline_env")


def cli(data_dir: Path, *args: str) -> str:
    result = runner.invoke(app, [*args, "--data-dir", str(data_dir)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_planned_sprint_project_is_a_usable_board_for_the_other_agents(tmp_path: Path) -> None:
    request = json.loads(cli(tmp_path, "plan", "--json"))["approval_request"]
    names = [r["name"] for r in request["action_requests"]]
    assert names[:2] == ["create_project", "add_project_fields"]
    cli(tmp_path, "approvals", "approve", request["proposal_id"], "--as", "priya.brooks@acme.example")

    settings = load_settings(data_dir=tmp_path, asana_base_url=None, model="offline")
    with open_runtime(settings) as rt:
        ws = rt.allowed_workspaces()[0]
        backlog = rt.asana.find_project(ws, "Product Backlog")
        previous = rt.asana.find_project(ws, "Sprint 23")
        sprint = rt.asana.find_project(ws, "Sprint 24")
        assert sprint.owner is not None and sprint.owner.gid != rt.asana.me().gid
        assert previous.owner is not None and sprint.owner.gid == previous.owner.gid
        assert [s.name for s in rt.asana.sections(sprint.gid)] == [
            s.name for s in rt.asana.sections(previous.gid)
        ]
        fields = rt.asana.field_map(sprint.gid).names
        assert fields == rt.asana.field_map(backlog.gid).names
        assert {STORY_POINTS, SPRINT, RISK_SCORE, AI_PRIORITY_SCORE, ESTIMATED_STORY_POINTS} <= set(fields)
        todo = rt.asana.sections(sprint.gid)[0]
        tasks = rt.asana.project_tasks(sprint.gid)
        assert tasks and all(t.section_in(sprint.gid).gid == todo.gid for t in tasks)  # type: ignore[union-attr]
        slipped = next(t.gid for t in tasks if t.dependents)  # a slip there pushes other work

    out = json.loads(
        cli(tmp_path, "risk", "--project", "Sprint 24", "--task", slipped, "--days", "5", "--json")
    )
    report = out["report"]
    assert report["failures"] == [], report["failures"]
    assert report["counts"].get("done", 0) >= 1
    with open_runtime(settings) as rt:
        assert rt.asana.task(slipped).number(RISK_SCORE) is not None
