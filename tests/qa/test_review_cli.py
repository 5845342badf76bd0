"""`sprintpilot review` on the embedded runtime (SQLite + generated sandbox workspace)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

import service.runtime
from agents.planner import planner_specialist
from agents.qa import qa_specialist
from graphs.registry import SpecialistRegistry
from service.cli.review import review
from service.runtime import open_runtime
from service.settings import load_settings

pytestmark = pytest.mark.integration
runner = CliRunner()


@pytest.fixture(autouse=True)
def _offline_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in (
        "SPRINTPILOT_ASANA_BASE_URL",
        "SPRINTPILOT_DATABASE_URL",
        "SPRINTPILOT_MODEL",
        "SPRINTPILOT_DOD_FILE",
    ):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(
        service.runtime,
        "default_registry",
        lambda: SpecialistRegistry([planner_specialist(), qa_specialist()]),
    )


def app() -> typer.Typer:
    a = typer.Typer()
    a.command("review")(review)
    a.command("noop")(lambda: None)  # two commands keep `review` a named subcommand
    return a


def ready_task(data_dir: Path) -> str:
    with open_runtime(load_settings(data_dir=data_dir)) as rt:
        ws = rt.allowed_workspaces()[0]
        backlog = rt.asana.find_project(ws, "Product Backlog")
        tasks = rt.asana.project_tasks(backlog.gid)
        return next(t.gid for t in tasks if t.display("Status") == "Ready for Review" and not t.completed)


def test_review_json_with_explicit_dod_file(tmp_path: Path) -> None:
    gid = ready_task(tmp_path)
    dod = tmp_path / "dod.yaml"
    dod.write_text("checks:\n  - required_fields: [Story Points, Release Notes]\n")
    result = runner.invoke(
        app(), ["review", "--task", gid, "--dod", str(dod), "--json", "--data-dir", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["status"] == "done" and out["passed"] is False
    assert out["dod_source"] == f"explicit:{dod}"
    assert [f["item"] for f in out["findings"]][-1] == "Field “Release Notes” is not on this task."


def test_review_pass_waits_for_approval_and_bad_dod_is_one_line(tmp_path: Path) -> None:
    gid = ready_task(tmp_path)
    dod = tmp_path / "dod.yaml"
    dod.write_text("checks: [required_fields: [Priority]]\n")
    result = runner.invoke(app(), ["review", "--task", gid, "--dod", str(dod), "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "DoD met" in result.output and "sprintpilot approvals approve" in result.output

    dod.write_text("checks: [bogus]\n")
    result = runner.invoke(app(), ["review", "--task", gid, "--dod", str(dod), "--data-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
