"""Issue 18: on a free Asana workspace (sandbox `plan: free`) agents degrade instead of crashing:
`health` answers in one line that it needs a paid plan (exit 1, as every failed run); a sprint
plan whose board setup hits the 402 still applies its other actions and names the failed one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from sandbox.premium import set_plan
from sandbox.store import Store
from service.cli.main import app
from service.embedded import EmbeddedSandbox

runner = CliRunner()


def _records(store: Store, kind: str) -> list[Any]:
    return list(store.tables[kind].values())


pytestmark = pytest.mark.usefixtures("offline_env")


def free_workspace(data_dir: Path) -> None:
    with EmbeddedSandbox(data_dir) as sandbox:  # generated, then saved with the plan on stop
        set_plan(sandbox.store, "free")


def test_health_on_a_free_plan_is_one_line(tmp_path: Path) -> None:
    free_workspace(tmp_path)
    result = runner.invoke(app, ["health", "--data-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert "needs a paid Asana plan: portfolios" in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1


def test_plan_on_a_free_plan_applies_everything_but_the_fields(tmp_path: Path) -> None:
    free_workspace(tmp_path)
    planned = runner.invoke(app, ["plan", "--json", "--data-dir", str(tmp_path)])
    assert planned.exit_code == 0, planned.output
    pid = json.loads(planned.output)["approval_request"]["proposal_id"]
    approved = runner.invoke(
        app, ["approvals", "approve", pid, "--as", "priya.brooks@acme.example", "--data-dir", str(tmp_path)]
    )
    assert approved.exit_code == 0, approved.output
    out = " ".join(approved.output.split())
    assert "add_project_fields" in out and "needs a paid Asana plan: custom fields" in out
    with EmbeddedSandbox(tmp_path) as sandbox:
        store = sandbox.store
        sprint = next(p for p in _records(store, "project") if p.name == "Sprint 24")
        sections = [s for s in _records(store, "section") if s.project == sprint.gid]
        assert sections  # the columns were created
        assert not sprint.custom_field_settings  # the 402: no fields copied
