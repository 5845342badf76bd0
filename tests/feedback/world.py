"""Helpers for the feedback tests: act as a person in Asana, deliver the resulting story event
to the worker in-process, run triage through the whole graph, read the feedback store."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from graphs.runner import start_run
from service.db.engine import write_session
from service.db.events import InboxEvent
from service.db.feedback import SqlFeedback
from service.events.inbox import store_events
from service.runtime import Runtime
from service.worker.processing import process_inbox_event
from tools.asana.client import AsanaClient
from tools.asana.models import Story
from tools.feedback.models import FeedbackItem


@dataclass
class Person:
    gid: str
    client: AsanaClient


def backlog_gid(rt: Runtime) -> str:
    return rt.asana.find_project(rt.allowed_workspaces()[0], "Product Backlog").gid


def new_task(person: Person, rt: Runtime, name: str, notes: str) -> str:
    return person.client.create_task(name=name, projects=[backlog_gid(rt)], notes=notes).gid


def triage(rt: Runtime, task_gid: str) -> dict[str, Any]:
    """Run the triage agent on one task through the whole graph (auto writes applied)."""
    ctx = rt.context(actor="agent:triage")
    request = {"agent": "triage", "args": {"task": task_gid}, "trigger": "cli"}
    outcome = start_run(rt.graph, ctx, uuid.uuid4().hex, request)
    assert outcome.status == "done", outcome.report
    return outcome.report or {}


def deliver(
    rt: Runtime, story: Story, task_gid: str, user_gid: str, *, at: str | None = None
) -> dict[str, Any]:
    """The story-added event Asana sends for `story`, stored in the inbox and processed."""
    event = {
        "user": {"gid": user_gid, "resource_type": "user"},
        "created_at": at or datetime.now(UTC).isoformat(),
        "action": "added",
        "resource": {"gid": story.gid, "resource_type": "story", "resource_subtype": story.resource_subtype},
        "parent": {"gid": task_gid, "resource_type": "task"},
        "change": None,
    }
    with write_session(rt.engine) as session:
        store_events(session, [event], source="webhook")
    with write_session(rt.engine) as session:
        inbox_id = session.scalars(select(InboxEvent.id).order_by(InboxEvent.id.desc())).first()
    assert inbox_id is not None
    return process_inbox_event(rt, inbox_id)


def newest_story(rt: Runtime, task_gid: str) -> Story:
    return rt.asana.stories(task_gid)[-1]


def feedback_rows(rt: Runtime) -> list[FeedbackItem]:
    return SqlFeedback(rt.engine).items(since=datetime(2000, 1, 1, tzinfo=UTC))
