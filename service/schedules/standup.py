"""The daily stand-up job: one run per project per local day, whoever triggers it.

Beat calls `daily_standups(rt, projects)` (see `STANDUP_SCHEDULE`); the CLI and the event route call
`run_daily_standup` for one project. The thread id is deterministic per (project, local date), so a
second trigger the same day meets the used thread (`ThreadBusy`) and is reported as already done.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from agents.standup import STANDUP_NAME, standup_thread_id
from agents.standup.threads import local_day
from graphs.runner import run_once
from service.events.locks import thread_lock
from service.runtime import Runtime

# Celery beat entry the lead wires (crontab per team's configured local time, default 09:00).
STANDUP_SCHEDULE = {"task": "sprintpilot.standup.daily", "hour": 9, "minute": 0, "timezone": "UTC"}


@dataclass
class StandupResult:
    project_gid: str
    day: str
    thread_id: str
    status: Literal["applied", "already_done", "error", "done"]
    report: dict[str, Any] | None = None
    proposal_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def run_daily_standup(
    rt: Runtime,
    project: str,
    *,
    timezone: str = "UTC",
    trigger: str = "schedule",
    workspace: str | None = None,
    now: Callable[[], datetime] | None = None,
    args: dict[str, Any] | None = None,
    lock_wait_s: float = 5.0,
) -> StandupResult:
    extra: dict[str, Any] = {"now": now} if now else {}
    ctx = rt.context(actor=f"agent:{STANDUP_NAME}", **extra)
    ws = ctx.resolve_workspace(workspace)
    gid = project if project.strip().isdigit() else rt.asana.find_project(ws, project).gid
    day = local_day(ctx.now(), timezone)
    thread_id = standup_thread_id(gid, day)
    request = {
        "agent": STANDUP_NAME,
        "args": {"project": gid, "timezone": timezone, **(args or {})},
        "trigger": trigger,
    }
    with thread_lock(rt.engine, thread_id, wait_s=lock_wait_s):
        # A thread stopped by a transient Asana error is continued, never counted as done.
        how, outcome = run_once(rt.graph, ctx, thread_id, request)
    if how == "finished" and outcome.status == "error":
        return StandupResult(gid, day.isoformat(), thread_id, "error", outcome.report)
    if how in ("finished", "waiting"):
        return StandupResult(gid, day.isoformat(), thread_id, "already_done")
    report = outcome.report or {}
    if outcome.status == "error":
        return StandupResult(gid, day.isoformat(), thread_id, "error", report)
    counts = report.get("counts") or {}
    status: Literal["applied", "already_done"] = "applied" if sum(counts.values()) else "already_done"
    return StandupResult(gid, day.isoformat(), thread_id, status, report, report.get("proposal_id"))


def active_sprint_projects(rt: Runtime, *, now: Callable[[], datetime] | None = None) -> list[str]:
    """Projects of the allowed workspaces whose sprint window (start_on..due_on) contains today."""
    today = (now or rt.context().now)().date()
    allowed = set(rt.settings.allowed_projects)
    found = []
    for ws in rt.allowed_workspaces():
        for project in rt.asana.projects(ws):
            if allowed and project.gid not in allowed:
                continue
            if project.start_on and project.due_on and project.start_on <= today <= project.due_on:
                found.append(project.gid)
    return found


def daily_standups(
    rt: Runtime, projects: Iterable[str], *, timezone: str = "UTC", now: Callable[[], datetime] | None = None
) -> list[StandupResult]:
    """The beat job: each configured sprint project's stand-up (a failure does not stop the others)."""
    results = []
    for project in projects:
        try:
            results.append(run_daily_standup(rt, project, timezone=timezone, now=now))
        except Exception as err:  # noqa: BLE001 - reported per project, the job goes on
            results.append(StandupResult(project, "", "", "error", {"error": str(err)}))
    return results
