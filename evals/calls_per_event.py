"""Count the Asana calls sprintpilot makes to handle one person's action, by endpoint.

A case is something a person does in the seeded sandbox (as that person, over HTTP). Its events
are read into the inbox through the events API (not counted: a webhook would deliver them) and
each inbox row is handled as the worker handles it. Shared by tests/worker/test_calls_per_event.py
(budgets) and evals/bench_calls_per_event.py (the table).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select

from service.db.engine import read_session
from service.db.events import InboxEvent
from service.events.reconcile import reconcile_project
from service.runtime import Runtime
from service.worker.processing import process_inbox_event
from tools.asana.client import AsanaClient
from tools.asana.models import Project, Task


@dataclass(frozen=True)
class Case:
    project: str  # the project whose events carry the action
    act: Callable[[AsanaClient, Project, str], None]  # (the person's client, project, workspace)


@dataclass
class Measured:
    calls: int = 0
    by_endpoint: Counter[str] = field(default_factory=Counter)
    handled: list[str] = field(default_factory=list)  # the routes that ran something


def _add_backlog_task(human: AsanaClient, project: Project, workspace: str) -> None:
    human.create_task(
        name="Export invoices as CSV from the billing page",
        workspace_gid=workspace,
        projects=[project.gid],
        notes="As a finance lead I want to export this month's invoices as CSV to reconcile them.",
    )


def _add_sprint_task(human: AsanaClient, project: Project, workspace: str) -> None:
    human.create_task(name="Fix the flaky CSV export test", workspace_gid=workspace, projects=[project.gid])


def _open_tasks(human: AsanaClient, project: Project) -> list[Task]:
    return [t for t in human.project_tasks(project.gid) if not t.completed and not t.parent]


def _move_due_date(human: AsanaClient, project: Project, workspace: str) -> None:
    """Push back the due date of an open sprint task others wait on (a dependency slip)."""
    tasks = [t for t in _open_tasks(human, project) if t.dependents and t.due_on]
    task = tasks[0]
    assert task.due_on is not None
    human.update_task(task.gid, {"due_on": task.due_on + timedelta(days=10)})


def _ready_for_review(human: AsanaClient, project: Project, workspace: str) -> None:
    """Set an open sprint task's Status to "Ready for Review" (the QA review's trigger)."""
    status = next(
        st.custom_field for st in human.custom_field_settings(project.gid) if st.custom_field.name == "Status"
    )
    option = next(o for o in status.enum_options or [] if o.name == "Ready for Review")
    task = next(t for t in _open_tasks(human, project) if t.field("Status") != "Ready for Review")
    human.update_task(task.gid, {"custom_fields": {status.gid: option.gid}})


CASES: dict[str, Case] = {
    "triage: task added to the backlog": Case("Product Backlog", _add_backlog_task),
    "stand-up: task added to the sprint": Case("Sprint 23", _add_sprint_task),
    "dependencies: due date moved": Case("Sprint 23", _move_due_date),
    "QA: task moved to Ready for Review": Case("Sprint 23", _ready_for_review),
}


def _counts(rt: Runtime) -> Counter[str]:
    assert rt.sandbox is not None
    return Counter(rt.sandbox.store.stats.snapshot()["by_route"])


def measure_case(rt: Runtime, case: Case) -> Measured:
    assert rt.sandbox is not None, "calls are counted at the embedded sandbox"
    workspace = rt.allowed_workspaces()[0]
    project = rt.asana.find_project(workspace, case.project)
    owner = project.owner.gid if project.owner else ""
    token = rt.sandbox.token_for(owner)
    assert token, "the project's owner has no sandbox token"
    reconcile_project(rt.engine, rt.asana, project.gid)  # start reading events from now
    with read_session(rt.engine) as session:
        last = session.scalars(select(InboxEvent.id).order_by(InboxEvent.id.desc())).first() or 0
    with AsanaClient(rt.sandbox.base_url, token) as human:
        case.act(human, project, workspace)
    reconcile_project(rt.engine, rt.asana, project.gid)
    with read_session(rt.engine) as session:
        ids = list(session.scalars(select(InboxEvent.id).where(InboxEvent.id > last).order_by(InboxEvent.id)))
    before = _counts(rt)
    out = Measured()
    for inbox_id in ids:
        result = process_inbox_event(rt, inbox_id)
        if result.get("thread_id"):
            out.handled.append(str(result.get("route")))
    out.by_endpoint = _counts(rt) - before
    out.calls = sum(out.by_endpoint.values())
    return out
