"""The installed route table sends real events to the right agent (processed in-process)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from service.db.engine import write_session
from service.db.events import InboxEvent
from service.events.inbox import store_events
from service.events.router import ROUTES
from service.events.wiring import TASK_ADDED_ROUTE, install_routes
from service.runtime import Runtime, open_runtime
from service.settings import load_settings
from service.worker.processing import process_inbox_event
from tools.asana.client import AsanaClient


@pytest.fixture
def rt(tmp_path: Path) -> Iterator[Runtime]:
    settings = load_settings(data_dir=tmp_path, asana_base_url=None, model="offline")
    with open_runtime(settings) as runtime:
        yield runtime


def _event(task_gid: str, project_gid: str) -> dict:
    return {
        "user": {"gid": "1", "resource_type": "user"},
        "created_at": "2026-11-25T10:00:00.000Z",
        "action": "added",
        "resource": {"gid": task_gid, "resource_type": "task", "resource_subtype": "default_task"},
        "parent": {"gid": project_gid, "resource_type": "project"},
        "change": None,
    }


def _inbox(rt: Runtime, event: dict) -> int:
    with write_session(rt.engine) as session:
        store_events(session, [event], source="webhook")
    with write_session(rt.engine) as session:
        return int(session.scalars(select(InboxEvent.id).order_by(InboxEvent.id.desc())).first())


def test_route_order_is_deterministic_and_complete() -> None:
    install_routes()
    install_routes()  # idempotent
    names = [r.name for r in ROUTES]
    assert names[0] == "approval_decision"
    assert names.index("deps_status_changed") < names.index("qa_status_changed")
    assert TASK_ADDED_ROUTE in names and len(names) == len(set(names))


def test_task_added_to_backlog_is_triaged_once(rt: Runtime) -> None:
    assert rt.sandbox is not None
    ws = rt.allowed_workspaces()[0]
    backlog = rt.asana.find_project(ws, "Product Backlog")
    human = rt.sandbox.token_for(backlog.owner.gid if backlog.owner else "")
    assert human
    with AsanaClient(rt.sandbox.base_url, human) as po:
        task = po.create_task(
            name="Export the delivery tracking history as CSV",
            projects=[backlog.gid],
            notes="Acceptance criteria:\n- a CSV download button\n- includes timestamps",
        )
    inbox_id = _inbox(rt, _event(task.gid, backlog.gid))
    first = process_inbox_event(rt, inbox_id)
    assert first["route"] == TASK_ADDED_ROUTE and first["status"] == "done", first
    refreshed = rt.asana.task(task.gid)
    assert refreshed.field("Estimated Story Points") is not None
    assert any("[AI Proposal]" in (s.text or "") for s in rt.asana.stories(task.gid))
    again = process_inbox_event(rt, inbox_id)
    assert again["status"] == "done" and again.get("detail") == "already processed"


def test_task_added_to_a_finished_sprint_is_skipped(rt: Runtime) -> None:
    ws = rt.allowed_workspaces()[0]
    sprint = rt.asana.find_project(ws, "Sprint 18")
    some_task = rt.asana.project_tasks(sprint.gid)[0]
    result = process_inbox_event(rt, _inbox(rt, _event(some_task.gid, sprint.gid)))
    assert result["status"] == "skipped" and "not an active sprint" in result["detail"]
