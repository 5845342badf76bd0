"""Each agent refuses the wrong kind of project with one line and exit 1, writing nothing
(issue 16, reproduction 4: a retro of a sprint not started, a stand-up of the backlog or of a
sprint that ended months ago all wrote)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from service.cli import main
from service.runtime import open_runtime
from service.settings import load_settings

runner = CliRunner()


@pytest.fixture(autouse=True)
def _offline_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("SPRINTPILOT_ASANA_BASE_URL", "SPRINTPILOT_DATABASE_URL", "SPRINTPILOT_MODEL"):
        monkeypatch.delenv(var, raising=False)


def _writes(data_dir: Path) -> int:
    with open_runtime(load_settings(data_dir=data_dir)) as rt:
        assert rt.sandbox is not None
        return int(rt.sandbox.store.stats.snapshot()["mutating_total"])


@pytest.mark.parametrize(
    ("args", "why"),
    [
        (["retro", "--project", "Sprint 30"], "Sprint 30 has not ended yet"),
        (["standup", "--project", "Product Backlog"], "'Product Backlog' is not a sprint project"),
        (["standup", "--project", "Sprint 18"], "Sprint 18 is not the active sprint (it ended on"),
        (["plan", "--project", "Sprint 23"], "Sprint 23 is a sprint project; planner works on a backlog"),
    ],
)
def test_the_wrong_kind_of_project_is_one_line_and_writes_nothing(
    tmp_path: Path, args: list[str], why: str
) -> None:
    today = datetime.now(UTC).date()
    with open_runtime(load_settings(data_dir=tmp_path)) as rt:  # a sprint that has not started
        workspace = rt.resolve_workspace()
        rt.asana.create_project(
            workspace,
            "Sprint 30",
            team_gid=rt.asana.teams(workspace)[0].gid,  # an organization: a new project needs a team
            start_on=today + timedelta(days=3),
            due_on=today + timedelta(days=16),
        )
    before = _writes(tmp_path)
    result = runner.invoke(main.app, [*args, "--data-dir", str(tmp_path)])
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and why in lines[0], result.output
    assert _writes(tmp_path) == before
