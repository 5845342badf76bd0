"""Event handling for form intake: a task added to an intake project is triaged as a request.

Asana forms file each submission as a new task in the form's project, so a form submission
reaches sprintpilot as a task `added` to that project (webhook or events API; the API has no
forms endpoint). That event matches the general `task_added_to_project` route (structured fields
only: resource type, action, parent type), whose handler (service/events/wiring.py) asks
`intake_run` first: the project is an intake project when its gid or name is in the setting
`SPRINTPILOT_INTAKE_PROJECTS` (gids or names, comma list; unset: no intake), never by anything
the task says. A request is compared with the backlogs triage watches
(`SPRINTPILOT_BACKLOG_PROJECTS`, default "Product Backlog"). Every other project's event goes on
as before (backlog triage, or the stand-up).

One run per event: the thread is keyed on the intake thread route and the event (a redelivered
event lands on the thread it started, which has finished or waits at its gate), and a later run
for the same request while its proposal waits adds nothing (`Proposal.subject`).

**Re-triage after edits** (route `intake_request_changed`, before the dependency/QA routes that
also match field changes): a task's notes, name or custom fields changed. The handler triages the
request again only when all hold: the change was made by someone other than the service account
(our own AI-field writes never start a run), the task is an open top-level task of an intake
project, and it still waits for information: our newest ask comment on it is newer than our newest
refinement comment (`agents.triage.intake.ask_state`, read from its stories). A refined request's
later edits are the team's own work, not a cue to re-estimate over people's corrections. The
thread is keyed on the request and a hash of what triage reads (name, notes, the required fields):
the same edit delivered twice, or its notes and field events together, start one run; a change
that leaves that content as it was starts none. Everything else (and a custom-fields event in any
case) goes on to the next matching route, so the dependency manager and the QA reviewer see
exactly what they saw before.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable, Mapping
from typing import Any

from agents.triage import TRIAGE_NAME
from agents.triage.intake import REQUIRED_FIELDS, ask_state
from service.events.router import ROUTES as ROUTER_TABLE
from service.events.router import EventFacts, Route, on, register_route
from service.worker.handlers import HANDLERS, EventWork, HandlerResult, hand_on, route_args, start_agent
from tools.asana.models import Project, Task

# The (virtual) route name intake threads and their run arguments are keyed on.
THREAD_ROUTE = "triage_intake_request"
CHANGED_ROUTE = "intake_request_changed"
CHANGED_HANDLER = "intake_request_changed"
CHANGED_THREAD_ROUTE = "triage_intake_changed"
# What a requester edits: the description (plain or rich), the title, the form's field answers.
CHANGED_FIELDS = ("notes", "html_notes", "name", "custom_fields")


def is_intake_project(project: Project, configured: list[str]) -> bool:
    wanted = {c.strip().casefold() for c in configured if c.strip()}
    return project.gid in wanted or (project.name or "").strip().casefold() in wanted


def backlog_refs() -> list[str]:
    """The backlogs a request is compared with: the projects backlog triage watches."""
    from service.events.wiring import backlog_names

    return sorted(backlog_names())


def intake_args(facts: EventFacts) -> Mapping[str, Any]:
    return {"task": facts.resource_gid, "intake": True, "backlogs": backlog_refs()}


def intake_run(work: EventWork, project: Project) -> HandlerResult | None:
    """Triage the added task as a request when `project` is an intake project; None otherwise."""
    rt, facts = work.rt, work.facts
    if not facts.resource_gid or not is_intake_project(project, list(rt.settings.intake_projects)):
        return None
    allowed = set(rt.settings.allowed_projects)
    if allowed and project.gid not in allowed:
        return HandlerResult("skipped", "intake project outside the allowed scope", outcome="denied")
    task = rt.asana.task(facts.resource_gid)
    if task.resource_subtype == "approval" or task.completed or task.parent is not None:
        return HandlerResult("skipped", "approval, completed or sub-task", outcome="ignored")
    route_args.setdefault(THREAD_ROUTE, intake_args)  # start_agent reads the run arguments there
    keyed = dataclasses.replace(
        work, route=dataclasses.replace(work.route, name=THREAD_ROUTE, agent=TRIAGE_NAME)
    )
    return start_agent(keyed)


def request_state(task: Task) -> str:
    """Hash of what intake triage reads of the request: its name, notes and required fields."""
    fields = {f: task.display(f) for f in REQUIRED_FIELDS if task.has_field(f)}
    raw = json.dumps({"name": task.name or "", "notes": task.notes or "", "fields": fields}, sort_keys=True)
    return hashlib.sha256(raw.encode()).hexdigest()[:24]


def _intake_project(work: EventWork, task: Task) -> Project | None:
    configured = list(work.rt.settings.intake_projects)
    for m in task.memberships:
        if m.project is not None:
            project = work.rt.asana.project(m.project.gid)
            if is_intake_project(project, configured):
                return project
    return None


def _retriage(work: EventWork) -> HandlerResult:
    """Triage the changed task again if it is an intake request waiting for information."""
    from service.events.routes_feedback import service_user_gid

    rt, facts = work.rt, work.facts
    if not rt.settings.intake_projects:
        return HandlerResult("skipped", "no intake projects configured", outcome="ignored")
    if not facts.resource_gid or facts.resource_type != "task":
        return HandlerResult("skipped", "not a task event", outcome="ignored")
    me = service_user_gid(rt)
    if facts.user_gid == me:
        return HandlerResult("skipped", "our own change", outcome="ignored")
    task = rt.asana.task(facts.resource_gid)
    if task.resource_subtype == "approval" or task.completed or task.parent is not None:
        return HandlerResult("skipped", "approval, completed or sub-task", outcome="ignored")
    project = _intake_project(work, task)
    if project is None:
        return HandlerResult("skipped", "not in an intake project", outcome="ignored")
    allowed = set(rt.settings.allowed_projects)
    if allowed and project.gid not in allowed:
        return HandlerResult("skipped", "intake project outside the allowed scope", outcome="denied")
    if not ask_state(rt.asana.stories(task.gid), me).waiting:
        return HandlerResult("skipped", "the request is not waiting for information", outcome="ignored")
    route_args.setdefault(CHANGED_THREAD_ROUTE, intake_args)
    keyed = dataclasses.replace(
        work,
        route=dataclasses.replace(work.route, name=CHANGED_THREAD_ROUTE, agent=TRIAGE_NAME),
        dedup_key=f"{task.gid}:{request_state(task)}",
    )
    return start_agent(keyed)


def intake_request_changed(work: EventWork) -> HandlerResult:
    """Route `intake_request_changed`: re-triage a request waiting for information; the other
    agents' routes get the event as before (a custom-fields change always, anything else when it
    is not an intake request's)."""
    result = _retriage(work)
    if result.thread_id is not None and work.facts.change_field != "custom_fields":
        return result
    passed = hand_on(work)
    if result.thread_id is not None or passed is None:
        return result
    return passed


def install(
    *,
    routes: list[Route] | None = None,
    handlers: dict[str, Callable[[EventWork], HandlerResult]] | None = None,
    before: str | None = "deps_status_changed",
) -> None:
    """Register the re-triage route (before `before`, which also matches field changes) and its
    handler; idempotent."""
    table = ROUTER_TABLE if routes is None else routes
    if not any(r.name == CHANGED_ROUTE for r in table):
        route = Route(
            CHANGED_ROUTE,
            on(resource_type="task", action="changed", field=CHANGED_FIELDS),
            handler=CHANGED_HANDLER,
            agent=TRIAGE_NAME,
        )
        register_route(route, before=before if any(r.name == before for r in table) else None, routes=table)
    (HANDLERS if handlers is None else handlers)[CHANGED_HANDLER] = intake_request_changed
