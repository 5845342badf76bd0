"""Event routes for the dependency manager (structured fields only, never task text).

- `deps_due_changed`: a task's `due_on`/`due_at` changed → cascade the new date through its
  dependents (trigger "due_date_changed").
- `deps_status_changed`: a task's custom fields changed → if its Status now reads "Blocked",
  cascade a blocked slip (trigger "blocked"); otherwise hand the event to `fallback` (e.g. the QA
  reviewer's handler, whose route matches the same structured event) so both agents see it.

One run per (task, new due date) and per (task, Blocked entry): the thread key is built from the
task's structured state, so duplicate deliveries land on the same thread and start nothing new.

Wiring (done by the lead): `install(before="qa_status_changed", fallback="qa_review")` after the QA
routes are installed (or `install()` alone when there is no QA route).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from agents.dependencies import DEPENDENCIES_NAME
from service.events.own_writes import echo_without
from service.events.router import ROUTES as ROUTER_TABLE
from service.events.router import Route, on, register_route
from service.worker.handlers import HANDLERS, EventWork, HandlerResult, hand_on, route_args, start_agent
from tools.asana.field_names import STATUS
from tools.asana.models import Task

DEPS_AGENT = DEPENDENCIES_NAME
DUE_HANDLER = "dependency_due_changed"
STATUS_HANDLER = "dependency_status_changed"
THREAD_ROUTE = "deps_slip"
BLOCKED = "blocked"

ROUTES: list[Route] = [
    Route(
        "deps_due_changed",
        on(resource_type="task", action="changed", field=("due_on", "due_at")),
        handler=DUE_HANDLER,
        agent=DEPS_AGENT,
    ),
    Route(
        "deps_status_changed",
        on(resource_type="task", action="changed", field="custom_fields"),
        handler=STATUS_HANDLER,
        agent=DEPS_AGENT,
    ),
]

_fallback: dict[str, str | None] = {"name": None}


def _projects_in_scope(work: EventWork, task: Task) -> list[str]:
    allowed = set(work.rt.settings.allowed_projects)
    gids = [m.project.gid for m in task.memberships if m.project is not None]
    return sorted({g for g in gids if not allowed or g in allowed})


def _start(work: EventWork, task: Task, trigger: str, key: str) -> HandlerResult:
    projects = _projects_in_scope(work, task)
    if not projects:
        return HandlerResult("skipped", "task outside the allowed projects", outcome="denied")
    args: dict[str, Any] = {"projects": projects, "trigger": trigger, "task": task.gid}
    # start_agent reads run arguments from route_args; a worker process handles one event at a time.
    route_args[THREAD_ROUTE] = lambda facts: args
    keyed = dataclasses.replace(work, route=dataclasses.replace(work.route, name=THREAD_ROUTE), dedup_key=key)
    return start_agent(keyed)


def _usable(work: EventWork) -> Task | HandlerResult:
    facts = work.facts
    if not facts.resource_gid or facts.resource_type != "task":
        return HandlerResult("skipped", "not a task event", outcome="ignored")
    task = work.rt.asana.task(facts.resource_gid)
    if task.resource_subtype == "approval" or task.completed:
        return HandlerResult("skipped", "approval or completed task", outcome="ignored")
    if not (task.dependents or task.dependencies):
        return HandlerResult("skipped", "task has no dependency links", outcome="ignored")
    return task


def dependency_due_changed(work: EventWork) -> HandlerResult:
    task = _usable(work)
    if isinstance(task, HandlerResult):
        return task
    if task.due_on is None or not task.dependents:
        return HandlerResult("skipped", "no due date or no dependents", outcome="ignored")
    return _start(work, task, "due_date_changed", f"{task.gid}:due:{task.due_on.isoformat()}")


def dependency_status_changed(work: EventWork) -> HandlerResult:
    """Blocked → cascade; either way the next route matching the event (the QA reviewer's) gets
    it too, run as that route: its own agent and arguments (handing it this route's work ran the
    QA arguments through the dependency manager, which refused them)."""
    if echo_without(work.rt, work.facts, STATUS):  # our own AI fields: not a Status change
        passed = hand_on(work) if _fallback["name"] else None
        return passed or HandlerResult("skipped", "our own field writes", outcome="ignored")
    task = _usable(work)
    if isinstance(task, HandlerResult) or (task.display(STATUS) or "").strip().casefold() != BLOCKED:
        passed = hand_on(work) if _fallback["name"] else None
        if passed is not None:
            return passed
        return (
            task
            if isinstance(task, HandlerResult)
            else HandlerResult("skipped", "status is not Blocked", outcome="ignored")
        )
    result = _start(work, task, "blocked", f"{task.gid}:blocked:{work.dedup_key}")
    if _fallback["name"]:
        hand_on(work)  # the other agent still gets its look at the event
    return result


def install(
    *,
    routes: list[Route] | None = None,
    handlers: dict[str, Callable[[EventWork], HandlerResult]] | None = None,
    before: str | None = None,
    fallback: str | None = None,
) -> None:
    """Register the routes and handlers (idempotent)."""
    table = ROUTER_TABLE if routes is None else routes
    for route in ROUTES:
        if not any(r.name == route.name for r in table):
            register_route(
                route,
                before=before if before and any(r.name == before for r in table) else None,
                routes=table,
            )
    target = HANDLERS if handlers is None else handlers
    target[DUE_HANDLER] = dependency_due_changed
    target[STATUS_HANDLER] = dependency_status_changed
    _fallback["name"] = fallback
