"""A chat conversation on the production stack: Postgres checkpoints, resumed by a new runtime."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.chat_runtime import chat_session
from service.db.migrate import migrate
from service.runtime import open_runtime
from service.settings import load_settings

pytestmark = pytest.mark.integration


def test_offline_chat_plan_then_approve_across_runtimes(tmp_path: Path, pg_url: str) -> None:
    settings = load_settings(
        data_dir=tmp_path,
        database_url=pg_url,
        asana_base_url=None,
        model="offline",
        approvers=["priya.brooks@acme.example"],
    )
    migrate(settings)
    with open_runtime(settings) as rt:
        events = list(
            chat_session(rt, "pm-1", "priya.brooks@acme.example").send("plan Product Backlog capacity 20")
        )
        assert any(e.kind == "approval" for e in events), [e.kind for e in events]
        pending = chat_session(rt, "pm-1", "priya.brooks@acme.example").pending()
        assert pending is not None and pending["agent"] == "planner"

    with open_runtime(settings) as rt:  # new pool, new graph: only Postgres remembers the thread
        session = chat_session(rt, "pm-1", "priya.brooks@acme.example")
        assert session.pending() is not None
        events = list(session.send("approve"))
        results = [e.data.get("result", {}).get("status") for e in events if e.kind == "tool"]
        assert "applied" in results, [e.as_dict() for e in events]
        assert session.pending() is None
        ws = rt.allowed_workspaces()[0]
        sprint = rt.asana.find_project(ws, "Sprint 24")
        assert rt.asana.project_tasks(sprint.gid)
        assert [m["role"] for m in session.history()][0] == "human"
