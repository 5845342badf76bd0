"""End-of-sprint trigger for the sprint review: one run per sprint that ended and has no review yet.

Run daily with the retro sweep (beat's `end-of-sprint-reviews`, SPRINTPILOT_WORKER_RETRO_HOUR). A
sprint qualifies from the day after its due date, for `CATCH_UP_DAYS`, while its project holds no
"<Sprint> sprint review …" attachment and no review run was started for it (`already_started`).
The agent itself proposes nothing for an unchanged sprint, so a repeated trigger is harmless.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from agents.planner.inputs import past_sprint_projects
from agents.retro.review import SPRINT_REVIEW_NAME
from tools.retro.review_doc import file_prefix

CATCH_UP_DAYS = 7


def due_reviews(asana: Any, workspace_gid: str, today: date) -> list[Any]:
    out = []
    for _, project in past_sprint_projects(asana.projects(workspace_gid, archived=None), exclude_gid=""):
        end = project.due_on
        if end is None or not (today - timedelta(days=CATCH_UP_DAYS) <= end < today):
            continue
        prefix = file_prefix(project.name or project.gid)
        if not any((a.name or "").startswith(prefix) for a in asana.attachments(project.gid)):
            out.append(project)
    return out


def run_end_of_sprint_reviews(
    rt: Any,
    already_started: Callable[[str], bool] = lambda gid: False,
    now: Callable[[], datetime] | None = None,
) -> list[str]:
    """Start one sprint-review run per due sprint; returns the thread ids started. `now`: the
    clock the runs see (default the runtime's)."""
    from graphs.runner import start_run

    clock = {"now": now} if now is not None else {}
    started: list[str] = []
    for ws in rt.allowed_workspaces():
        day = rt.context(actor="agent:sprint_review", **clock).now().date()
        for project in due_reviews(rt.asana, ws, day):
            if already_started(project.gid):
                continue
            thread_id = uuid.uuid4().hex
            request = {
                "agent": SPRINT_REVIEW_NAME,
                "args": {"project": project.gid, "workspace": ws},
                "trigger": "schedule",
            }
            ctx = rt.context(
                actor="agent:sprint_review", approver_gid=rt.approver_for(ws, project.gid), **clock
            )
            start_run(rt.graph, ctx, thread_id, request)
            started.append(thread_id)
    return started
