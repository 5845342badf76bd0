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


def test_retro_ignores_its_own_comments_and_dates_actions_after_today(tmp_path: Path) -> None:
    """Issue 16 reproduction 6: themes quoted sprintpilot's own `[AI Proposal]` comments, and a
    retro run after the next sprint had ended proposed action items already overdue."""
    from datetime import UTC, date, datetime

    settings = load_settings(data_dir=tmp_path, asana_base_url=None, model="offline")
    registry = SpecialistRegistry([planner_specialist(), retro_specialist()])
    today = date(2026, 12, 20)  # Sprint 23 ended 2026-11-20; the sprint after it by 2026-12-04
    with open_runtime(settings, registry=registry) as rt:
        ws = rt.resolve_workspace()
        sprint = rt.asana.find_project(ws, "Sprint 23")
        tasks = [t.gid for t in rt.asana.project_tasks(sprint.gid)][:3]
        for gid in tasks:  # what the stand-up's nudges look like, posted by the bot
            rt.asana.add_comment(
                gid, "[AI Proposal] Hi, a heads-up: estimates and scope creep again, blocked"
            )

        def retro() -> dict:  # type: ignore[type-arg]
            now = datetime(today.year, today.month, today.day, 9, tzinfo=UTC)
            ctx = rt.context(
                actor="agent:retro", approver_gid=rt.approver_for(ws, "Product Backlog"), now=lambda: now
            )
            out = start_run(
                rt.graph, ctx, uuid.uuid4().hex, {"agent": "retro", "args": {"project": "Sprint 23"}}
            )
            assert out.interrupt is not None
            record = find_proposal(rt, out.interrupt["proposal_id"])
            return record.proposal.model_dump(mode="json")

        proposal = retro()
        quoted = str(proposal["evidence"]) + proposal["summary_markdown"]
        assert "[AI Proposal]" not in quoted and "a heads-up" not in quoted
        dues = [
            a["params"]["due_on"]
            for a in proposal["actions"]
            if a["kind"] == "create_task" and "due_on" in a["params"] and a["params"].get("assignee")
        ]
        assert dues and all(date.fromisoformat(d) > today for d in dues)
