"""Daily ceremony preparation: agendas a few days ahead, the reminder the working day before.

For each team backlog (SPRINTPILOT_BACKLOG_PROJECTS, default "Product Backlog") whose active sprint
ends within `LEAD_DAYS`, one run per ceremony (the active sprint's review and retro, the next
sprint's planning). The agent proposes only what changed: the first run prepares the task and
invite (approval), later runs stay quiet until the agenda changes or the reminder is due.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from agents.ceremonies import CEREMONY_NAME
from agents.planner.inputs import past_sprint_projects
from tools.ceremonies.times import CEREMONIES
from tools.planning.phase import sprint_phase

LEAD_DAYS = 3


def preparing(asana: Any, workspace_gid: str, today: date) -> bool:
    """Whether an active sprint ends within `LEAD_DAYS` (its review, retro and the next planning)."""
    for _, p in past_sprint_projects(asana.projects(workspace_gid, archived=None), exclude_gid=""):
        if (
            p.due_on is not None
            and sprint_phase(p, today) == "active"
            and p.due_on - today <= timedelta(days=LEAD_DAYS)
        ):
            return True
    return False


def run_ceremony_prep(rt: Any, backlogs: list[str], now: Callable[[], datetime] | None = None) -> list[str]:
    """Start one ceremony run per (backlog, ceremony) that is due; returns the thread ids started.
    `now`: the clock the runs see (default the runtime's)."""
    from graphs.runner import start_run

    settings = rt.settings
    clock = {"now": now} if now is not None else {}
    started: list[str] = []
    for ws in rt.allowed_workspaces():
        day = rt.context(actor="agent:ceremony", **clock).now().date()
        if not preparing(rt.asana, ws, day):
            continue
        for backlog in backlogs:
            for ceremony in CEREMONIES:
                thread_id = uuid.uuid4().hex
                args = {
                    "ceremony": ceremony,
                    "project": backlog,
                    "workspace": ws,
                    "timezone": settings.timezone,
                    "times": settings.ceremony_times,
                    "remind": settings.ceremony_reminders,
                }
                ctx = rt.context(actor="agent:ceremony", approver_gid=rt.approver_for(ws, backlog), **clock)
                start_run(
                    rt.graph, ctx, thread_id, {"agent": CEREMONY_NAME, "args": args, "trigger": "schedule"}
                )
                started.append(thread_id)
    return started
