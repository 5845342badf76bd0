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
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from agents.triage import TRIAGE_NAME
from service.events.router import EventFacts
from service.worker.handlers import EventWork, HandlerResult, route_args, start_agent
from tools.asana.models import Project

# The (virtual) route name intake threads and their run arguments are keyed on.
THREAD_ROUTE = "triage_intake_request"


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
