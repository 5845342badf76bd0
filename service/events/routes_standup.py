"""Event trigger of the stand-up: a task added to a project (scope change) runs that project's
stand-up for today if none ran yet (catch-up when beat was down; at most one per project per day).

Matches structured fields only (resource type, action, parent type); the project gid comes from
the event's parent. The handler uses the same per-(project, local day) thread as the schedule.
"""

from __future__ import annotations

from agents.standup import STANDUP_NAME
from service.events.router import Route, on
from service.schedules.standup import run_daily_standup
from service.worker.handlers import EventWork, HandlerResult

STANDUP_ROUTE = "standup_scope_change"
STANDUP_HANDLER = "run_standup"

ROUTES: list[Route] = [
    Route(
        STANDUP_ROUTE,
        on(resource_type="task", action="added", parent_type="project"),
        handler=STANDUP_HANDLER,
        agent=STANDUP_NAME,
    ),
]


def run_standup_handler(work: EventWork) -> HandlerResult:
    project = work.facts.parent_gid
    if not project:
        return HandlerResult("skipped", "event has no parent project", outcome="ignored")
    allowed = set(work.rt.settings.allowed_projects)
    if allowed and project not in allowed:
        return HandlerResult("skipped", "project outside the allowed scope", outcome="denied")
    # Only a project in an active sprint window (start_on ≤ today ≤ due_on) gets a stand-up.
    info = work.rt.asana.project(project)
    today = work.rt.context().now().date()
    if not (info.start_on and info.due_on and info.start_on <= today <= info.due_on):
        return HandlerResult("skipped", "not an active sprint project", outcome="ignored")
    result = run_daily_standup(work.rt, project, trigger="event")
    outcome = "noop" if result.status == "already_done" else result.status
    return HandlerResult("done", f"stand-up {result.status}", result.thread_id, outcome)
