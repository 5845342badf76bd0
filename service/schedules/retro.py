"""End-of-sprint trigger: start the retro for each sprint project that ended and has no retro yet.

Run daily (suggested beat entry: every day 18:00 UTC). A sprint qualifies on the day after its
due date (or later, catching up missed days) when its project holds no "Sprint Retro" task and
no retro run was started for it before (`already_started`, e.g. from the app DB's runs table).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from agents.planner.inputs import past_sprint_projects
from agents.retro.inputs import RETRO_TASK_PREFIX
from agents.retro.specialist import RETRO_NAME

SCHEDULE = {"task": "sprintpilot.retro.end_of_sprint", "crontab": {"hour": 18, "minute": 0}}
CATCH_UP_DAYS = 7


def due_sprints(asana: Any, workspace_gid: str, today: date) -> list[Any]:
    """Sprint projects that ended in the last `CATCH_UP_DAYS` days and have no retro task."""
    out = []
    for _, project in past_sprint_projects(asana.projects(workspace_gid, archived=None), exclude_gid=""):
        end = project.due_on
        if end is None or not (today - timedelta(days=CATCH_UP_DAYS) <= end < today):
            continue
        names = [t.name or "" for t in asana.project_tasks(project.gid)]
        if not any(n.startswith(RETRO_TASK_PREFIX) for n in names):
            out.append(project)
    return out


def run_end_of_sprint_retros(
    rt: Any, today: date | None = None, already_started: Callable[[str], bool] = lambda gid: False
) -> list[str]:
    """Start one retro run per due sprint; returns the thread ids started."""
    from graphs.runner import start_run

    started: list[str] = []
    for ws in rt.allowed_workspaces():
        ctx = rt.context(actor="agent:retro")
        day = today or ctx.now().date()
        for project in due_sprints(rt.asana, ws, day):
            if already_started(project.gid):
                continue
            thread_id = uuid.uuid4().hex
            request = {
                "agent": RETRO_NAME,
                "args": {"project": project.gid, "workspace": ws},
                "trigger": "schedule",
            }
            start_run(
                rt.graph,
                rt.context(actor="agent:retro", approver_gid=rt.approver_for(ws, project.gid)),
                thread_id,
                request,
            )
            started.append(thread_id)
    return started
