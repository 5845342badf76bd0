"""Install every agent's event routes and handlers into the router table (once per process).

The router (service/events/router.py) starts with the approval route only; each agent module
(`routes_<agent>.py`) contributes its own. Order matters (first match wins), so it is decided here:

| route | event (structured fields only) | work |
|---|---|---|
| approval_decision | task `approval_status` changed | resume the waiting thread with the decision |
| deps_due_changed | task `due_on`/`due_at` changed | dependency cascade from the slipped task |
| intake_request_changed | task notes/name/fields changed | intake request waiting: re-triage; next route |
| deps_status_changed | task custom fields changed | Blocked → cascade; else the QA check below |
| qa_section_added / qa_status_changed | task entered "Ready for Review" | Definition-of-Done review |
| feedback_story_added | story added on a task | record 👎/"wrong" replies and AI field edits |
| task_added_to_project | task added to a project | intake: request triage; backlog: triage; sprint: standup |
"""

from __future__ import annotations

import dataclasses
import os
import threading
from collections.abc import Mapping
from typing import Any

from agents.triage import TRIAGE_NAME
from service.events.router import Route, on, register_route
from service.worker.handlers import EventWork, HandlerResult, register_handler, route_args, start_agent

TASK_ADDED_ROUTE = "task_added_to_project"
TASK_ADDED_HANDLER = "task_added"
TRIAGE_THREAD_ROUTE = "triage_new_task"
DEFAULT_BACKLOGS = ("Product Backlog",)

_lock = threading.Lock()
_installed = False


def backlog_names() -> set[str]:
    """Projects whose new tasks get triaged: SPRINTPILOT_BACKLOG_PROJECTS (names or gids, comma list)."""
    raw = os.environ.get("SPRINTPILOT_BACKLOG_PROJECTS", "")
    names = [p.strip() for p in raw.split(",") if p.strip()] or list(DEFAULT_BACKLOGS)
    return {n.casefold() for n in names}


def _triage_args(facts: Any) -> Mapping[str, Any]:
    # The project the event names: triage reads it (and its changes) instead of the task first.
    return {"task": facts.resource_gid, "project": facts.parent_gid}


def on_task_added(work: EventWork) -> HandlerResult:
    """A task was added to a project: triage it as a request in an intake project
    (service/events/routes_intake.py) or as a task in a backlog, or refresh an active sprint's stand-up."""
    from service.events.routes_intake import intake_run
    from service.events.routes_standup import run_standup_handler

    project_gid = work.facts.parent_gid
    if not project_gid or not work.facts.resource_gid:
        return HandlerResult("skipped", "event has no task or project", outcome="ignored")
    project = work.rt.asana.project(project_gid)
    request = intake_run(work, project)  # a form request in an intake project
    if request is not None:
        return request
    wanted = backlog_names()
    if project.gid in wanted or (project.name or "").casefold() in wanted:
        task = work.rt.asana.task(work.facts.resource_gid)
        if task.resource_subtype == "approval" or task.completed:
            return HandlerResult("skipped", "approval or completed task", outcome="ignored")
        keyed = dataclasses.replace(
            work, route=dataclasses.replace(work.route, name=TRIAGE_THREAD_ROUTE, agent=TRIAGE_NAME)
        )
        return start_agent(keyed)
    return run_standup_handler(work)


def install_routes() -> None:
    """Register all agents' routes and handlers; safe to call more than once."""
    global _installed
    with _lock:
        if _installed:
            return
        from service.events import routes_dependencies, routes_feedback, routes_intake, routes_qa

        routes_qa.install()
        routes_feedback.install()  # feedback given in Asana (story added on a task)
        routes_dependencies.install(before="qa_status_changed", fallback="qa_review")
        routes_intake.install(before="deps_status_changed")  # edited intake requests
        register_route(
            Route(
                TASK_ADDED_ROUTE,
                on(resource_type="task", action="added", parent_type="project"),
                handler=TASK_ADDED_HANDLER,
                agent=TRIAGE_NAME,
            )
        )
        register_handler(TASK_ADDED_HANDLER, on_task_added)
        route_args[TRIAGE_THREAD_ROUTE] = _triage_args
        _installed = True
