"""The scorecard job: once a day, score the configured portfolio; post it there once a month.

Beat runs it daily (`SCORECARD_SCHEDULE`, 06:00 UTC) when `SPRINTPILOT_SCORECARD_PORTFOLIO` is
set. Each day's run is one thread per (portfolio, day) (run at most once, `run_once`); its
proposal carries the fresh scorecard in its evidence, which `/metrics` reads (so a scrape never
recomputes it). Only the month's first run proposes the status update: the action's facts are
(portfolio, month), and the agent proposes nothing once that month's scorecard was applied.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

SCORECARD_SCHEDULE = {"task": "sprintpilot.scorecard.daily", "crontab": {"hour": 6, "minute": 0}}


@dataclass(frozen=True)
class ScorecardRun:
    portfolio: str
    day: str
    thread_id: str
    how: str  # started | continued | waiting | finished (already ran today)
    status: str
    proposal_id: str | None
    posted: bool


def scorecard_thread_id(portfolio: str, day: str) -> str:
    return f"scorecard:{portfolio.strip().casefold()}:{day}"


def run_scorecard_job(
    rt: Any, portfolio: str | None = None, *, now: Callable[[], datetime] | None = None
) -> ScorecardRun | None:
    """Today's scorecard run for `portfolio` (default: the configured one; None configured: nothing)."""
    from agents.scorecard import SCORECARD_NAME
    from graphs.runner import run_once
    from service.events.locks import thread_lock

    target = portfolio or rt.settings.scorecard_portfolio
    if not target:
        return None
    extra: dict[str, Any] = {"now": now} if now else {}
    ctx = rt.context(actor=f"agent:{SCORECARD_NAME}", **extra)
    day = ctx.now().date().isoformat()
    thread_id = scorecard_thread_id(target, day)
    request = {"agent": SCORECARD_NAME, "args": {"portfolio": target}, "trigger": "schedule"}
    with thread_lock(rt.engine, thread_id, wait_s=5.0):
        how, outcome = run_once(rt.graph, ctx, thread_id, request)
    report = outcome.report or {}
    counts = report.get("counts") or {}
    return ScorecardRun(
        portfolio=target,
        day=day,
        thread_id=thread_id,
        how=how,
        status=str(report.get("status") or outcome.status),
        proposal_id=report.get("proposal_id"),
        posted=how == "started" and bool(sum(counts.values())),
    )
