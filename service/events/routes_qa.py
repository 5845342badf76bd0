"""Event routes for the QA / Definition-of-Done reviewer.

Two structured triggers (never the task's text):
- `qa_section_added`: a task was added to a section (`action=added`, parent a section);
- `qa_status_changed`: a task's custom fields changed (`action=changed`, field `custom_fields`).

Both go to the `qa_review` handler, which reads the task once and runs the reviewer only when
the task really entered review: it now sits in that very section and the section is named
"Ready for Review", or its Status enum reads "Ready for Review". Everything else (other sections,
other fields, our own writes) is skipped without a run.

One review per entry into review: the thread is keyed on the task and the newest story that
records the entry (a section move into "Ready for Review" or a Status change to it), so a
duplicate delivery, a later unrelated field change while the task still waits in review, and the
section and Status events of one move handled after both happened land on the same thread
(started once). A Status change recorded after the section event was already handled counts as a
new entry and reviews again.

Wiring (done by the lead): `install()` adds the routes, the handler and the run arguments to the
router/handler tables (tests may pass their own route/handler tables).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from agents.qa import QA_NAME
from service.events.own_writes import echo_without
from service.events.router import ROUTES as ROUTER_TABLE
from service.events.router import EventFacts, Route, on, register_route
from service.worker.handlers import HANDLERS, EventWork, HandlerResult, route_args, start_agent
from tools.asana.errors import Forbidden, NotFound
from tools.asana.models import Story, Task
from tools.asana.process_cache import ProcessCache
from tools.dod.config import ReadyMarker

QA_AGENT = QA_NAME
HANDLER_NAME = "qa_review"
# The (virtual) route name the QA thread ids and run arguments are keyed on.
THREAD_ROUTE = "qa_ready_for_review"

ROUTES: list[Route] = [
    Route(
        "qa_section_added",
        on(resource_type="task", action="added", parent_type="section"),
        handler=HANDLER_NAME,
        agent=QA_AGENT,
    ),
    Route(
        "qa_status_changed",
        on(resource_type="task", action="changed", field="custom_fields"),
        handler=HANDLER_NAME,
        agent=QA_AGENT,
    ),
]


def qa_run_args(facts: EventFacts) -> Mapping[str, Any]:
    # require_ready: the task may have left review between the event and the run.
    return {"task": facts.resource_gid, "require_ready": True}


def _same(a: str | None, b: str) -> bool:
    return a is not None and a.strip().casefold() == b.strip().casefold()


def entered_review(task: Task, facts: EventFacts, marker: ReadyMarker) -> bool:
    """Structured check of the event against the task as it is now."""
    if facts.parent_type == "section":
        return any(
            m.section is not None
            and m.section.gid == facts.parent_gid
            and _same(m.section.name, marker.section)
            for m in task.memberships
        )
    return _same(task.display(marker.status_field), marker.status)


def entry_story(stories: list[Story], marker: ReadyMarker) -> Story | None:
    """The newest system story that moved the task into review (section or status)."""
    for story in reversed(stories):
        if story.new_section is not None and _same(story.new_section.name, marker.section):
            return story
        if (
            story.custom_field is not None
            and _same(story.custom_field.name, marker.status_field)
            and story.new_enum_value is not None
            and _same(story.new_enum_value.name, marker.status)
        ):
            return story
    return None


# Section names change rarely; a section event (a rename) drops its entry (forget_section).
SECTION_NAMES: ProcessCache[str | None] = ProcessCache(ttl_s=600.0, max_entries=1024)


def forget_section(base_url: str, section_gid: str) -> None:
    SECTION_NAMES.forget_key(base_url, section_gid)


def qa_review(work: EventWork) -> HandlerResult:
    rt, facts = work.rt, work.facts
    gid = facts.resource_gid
    if not gid or facts.resource_type != "task":
        return HandlerResult("skipped", "not a task event", outcome="ignored")
    marker = ReadyMarker()
    if echo_without(rt, facts, marker.status_field):  # our own AI fields: not a Status change
        return HandlerResult("skipped", "our own field writes", outcome="ignored")
    if facts.parent_type == "section" and facts.parent_gid:
        # Most section moves are not into review: the section's name (kept in the process) says
        # so without reading the task (issue 23: calls per event).
        section = facts.parent_gid
        try:
            name = SECTION_NAMES.get(rt.asana.base_url, section, lambda: rt.asana.section(section).name)
        except (NotFound, Forbidden):
            name = None  # unknown: the task's own memberships decide below
        if name is not None and not _same(name, marker.section):
            return HandlerResult("skipped", "task did not enter review", outcome="ignored")
    task = rt.asana.task(gid)
    if task.resource_subtype == "approval" or task.completed:
        return HandlerResult("skipped", "approval or completed task", outcome="ignored")
    if not entered_review(task, facts, marker):
        return HandlerResult("skipped", "task did not enter review", outcome="ignored")
    allowed = set(rt.settings.allowed_projects)
    if allowed and not any(m.project and m.project.gid in allowed for m in task.memberships):
        return HandlerResult("skipped", "task outside the allowed projects", outcome="denied")
    story = entry_story(rt.asana.stories(gid), marker)
    entry = f"{gid}:{story.gid}" if story else f"{gid}:{work.dedup_key}"
    route_args.setdefault(THREAD_ROUTE, qa_run_args)  # start_agent reads the run arguments from there
    keyed = dataclasses.replace(
        work, route=dataclasses.replace(work.route, name=THREAD_ROUTE), dedup_key=entry
    )
    return start_agent(keyed)


def install(
    *,
    routes: list[Route] | None = None,
    handlers: dict[str, Callable[[EventWork], HandlerResult]] | None = None,
    before: str | None = None,
) -> None:
    """Register the QA routes, handler and run arguments (idempotent)."""
    table = ROUTER_TABLE if routes is None else routes
    for route in ROUTES:
        if not any(r.name == route.name for r in table):
            register_route(route, before=before, routes=table)
    (HANDLERS if handlers is None else handlers)[HANDLER_NAME] = qa_review
    route_args[THREAD_ROUTE] = qa_run_args
