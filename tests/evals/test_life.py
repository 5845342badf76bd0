"""`sprintpilot eval life` on one sprint (issue 16, "must show"): a seeded team lives with
sprintpilot for two weeks — plans, stand-ups, events, re-runs, approvals decided, edited,
rejected and ignored — and every check a team would notice holds. The three-sprint run is the
benchmark (`make bench`), its table in the README."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from evals.life import LifeResult, format_table
from service.cli import main

pytestmark = pytest.mark.usefixtures("offline_env")


def test_one_sprint_of_team_life_keeps_every_check(tmp_path: Path) -> None:
    # Its own process, as a user runs it: the simulation moves the process clock and installs the
    # event routes, which must not leak into the tests that run after it.
    out = subprocess.run(
        [sys.executable, "-m", "service.cli.main", "eval", "life", "--sprints", "1", "--json"],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "SPRINTPILOT_DATA_DIR": str(tmp_path / "unused")},
    )
    result = LifeResult.model_validate_json(out.stdout)
    table = format_table(result)
    assert out.returncode == 0 and result.ok, table + out.stderr[-2000:]
    checks = {c.name: c.value for c in result.checks}
    assert checks["duplicate writes for the same facts"] == 0
    assert checks["tasks in two open sprints"] == 0
    # It did live: plans, stand-ups checked against their plan, decisions, writes of many kinds.
    kinds = {k.kind for k in result.writes_by_kind}
    assert {"create_project", "post_status_update", "post_comment", "create_approval_task"} <= kinds
    assert result.details["standups_checked_against_their_plan"] >= 5
    assert sum(result.decisions.values()) >= 2
    assert "| check | value | target | ok |" in table


def test_the_command_prints_the_table_and_fails_on_bad_input() -> None:
    runner = CliRunner()
    out = runner.invoke(main.app, ["eval", "life", "--sprints", "0"])
    assert out.exit_code != 0
    assert "Traceback" not in out.output
