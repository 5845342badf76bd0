"""The retro through the whole graph on the embedded sandbox (SQLite): publish, gate, apply."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from agents.planner import planner_specialist
from agents.retro import retro_specialist
from graphs.registry import SpecialistRegistry
from graphs.runner import start_run
from service.approvals import build_decisions, decide, find_proposal
from service.runtime import open_runtime
from service.settings import load_settings


@pytest.fixture(autouse=True)
def _offline_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("SPRINTPILOT_ASANA_BASE_URL", "SPRINTPILOT_DATABASE_URL", "SPRINTPILOT_MODEL"):
        monkeypatch.delenv(var, raising=False)


def test_retro_posts_status_now_and_creates_retro_and_action_tasks_after_approval(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, asana_base_url=None, model="offline")
    registry = SpecialistRegistry([planner_specialist(), retro_specialist()])
    with open_runtime(settings, registry=registry) as rt:
        ws = rt.allowed_workspaces()[0]
        ctx = rt.context(actor="agent:retro", approver_gid=rt.approver_for(ws, "Product Backlog"))
        thread = uuid.uuid4().hex
        out = start_run(rt.graph, ctx, thread, {"agent": "retro", "args": {"project": "Sprint 23"}})
        assert out.status == "awaiting_approval", out.report
        assert out.interrupt is not None
        waiting = [r["name"] for r in out.interrupt["action_requests"]]
        assert waiting and set(waiting) == {"create_task"}  # retro task + action items wait
        sprint = rt.asana.find_project(ws, "Sprint 23")
        updates = rt.asana.status_updates(sprint.gid)  # the auto status update is already there
        assert any("retro" in (u.title or "").lower() for u in updates)

        proposal = find_proposal(rt, out.interrupt["proposal_id"])
        decisions = build_decisions(out.interrupt)
        result = decide(rt, proposal, decisions, "alice", out.interrupt.get("digest"))
        assert result.status == "done", result.report
        names = [t.name or "" for t in rt.asana.project_tasks(sprint.gid)]
        assert "Sprint Retro — Sprint 23" in names
        process = rt.asana.find_project(ws, "Process Improvement")
        created = [
            t
            for t in rt.asana.project_tasks(process.gid)
            if (t.notes or "").startswith("From the Sprint 23 retro")
        ]
        assert created and all(t.assignee is not None and t.due_on is not None for t in created)


def test_retro_cli_command_runs_on_the_embedded_sandbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    import service.runtime
    from service.cli.retro import retro

    monkeypatch.setattr(
        service.runtime,
        "default_registry",
        lambda: SpecialistRegistry([planner_specialist(), retro_specialist()]),
    )
    app = typer.Typer()
    app.command()(retro)
    app.command("noop")(lambda: None)
    res = CliRunner().invoke(app, ["retro", "--project", "Sprint 23", "--json", "--data-dir", str(tmp_path)])
    assert res.exit_code == 0, res.output
    payload = json.loads(res.output)
    assert payload["status"] == "awaiting_approval"
    assert {r["name"] for r in payload["approval_request"]["action_requests"]} == {"create_task"}
