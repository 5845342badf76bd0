"""The work behind each route: what an event makes the worker do.

Every handler is idempotent (a redelivered or duplicated event changes nothing the second time)
and runs a thread only under that thread's run lock. No handler ever sends new input to a thread
that waits at its approval gate: the approval handler *resumes* it with the decision made in
Asana, and `start_agent` (for routes that trigger an agent) starts a fresh thread or skips.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from graphs.ports import AuditRecord
from graphs.runner import RunOutcome, run_once
from service.approvals import resume_from_asana, supersede_older
from service.db.proposals import ProposalRecord
from service.events.locks import thread_lock
from service.events.router import EventFacts, Route
from service.runtime import Runtime


@dataclass
class HandlerResult:
    status: Literal["done", "skipped"]
    detail: str
    thread_id: str | None = None
    outcome: str | None = None  # the run's outcome for metrics: applied, rejected, awaiting, ...
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class EventWork:
    """What a handler gets: the runtime, the event's structured facts and inbox identity."""

    rt: Runtime
    facts: EventFacts
    route: Route
    inbox_id: int
    dedup_key: str
    lock_wait_s: float = 5.0


Handler = Callable[[EventWork], HandlerResult]


def _run_outcome(outcome: RunOutcome) -> str:
    if outcome.status == "awaiting_approval":
        return "awaiting_approval"
    report = outcome.report or {}
    return str(report.get("status") or outcome.status)


def proposal_in_scope(rt: Runtime, proposal: ProposalRecord) -> bool:
    scope = proposal.proposal.scope
    if scope.workspace_gid not in rt.allowed_workspaces():
        return False
    allowed_projects = set(rt.settings.allowed_projects)
    return not allowed_projects or not scope.project_gids or set(scope.project_gids) <= allowed_projects


def audit_skip(rt: Runtime, event: str, reason: str, **details: Any) -> None:
    rt.audit.append(
        AuditRecord(actor="system:worker", event=event, outcome="denied", reason=reason, details=details)
    )


def apply_asana_decision(rt: Runtime, proposal: ProposalRecord, *, lock_wait_s: float) -> HandlerResult:
    """The approval route's work: `service.approvals.resume_from_asana`, as a handler result."""
    done = resume_from_asana(rt, proposal, lock_wait_s=lock_wait_s)
    thread_id = proposal.thread_id
    if done.status == "continued" and done.outcome is not None:
        return HandlerResult("done", "continued an interrupted run", thread_id, _run_outcome(done.outcome))
    if done.status == "resumed" and done.outcome is not None:
        detail = f"resumed with {done.asana_status}"
        return HandlerResult("done", detail, thread_id, _run_outcome(done.outcome))
    if done.status == "pending":
        return HandlerResult("skipped", f"approval task is {done.asana_status}", thread_id, "pending")
    if done.status == "no_task":
        return HandlerResult("skipped", "proposal has no approval task", thread_id, "noop")
    return HandlerResult("skipped", "proposal already decided", thread_id, "noop")


def resume_approval(work: EventWork) -> HandlerResult:
    """Route `approval_decision`: an approval task's approval_status changed in Asana."""
    rt, gid = work.rt, work.facts.resource_gid
    proposal = rt.repo.find_by_approval_task(gid) if gid else None
    if proposal is None:
        return HandlerResult("skipped", "not an approval task of ours", outcome="ignored")
    if not proposal_in_scope(rt, proposal):
        audit_skip(rt, "event.out_of_scope", "proposal outside the allowed scope", inbox_id=work.inbox_id)
        return HandlerResult("skipped", "out of scope", proposal.thread_id, "denied")
    return apply_asana_decision(rt, proposal, lock_wait_s=work.lock_wait_s)


def event_thread_id(route: Route, dedup_key: str) -> str:
    """One thread per (route, event): a redelivered event lands on the thread it already started."""
    return "evt-" + hashlib.sha256(f"{route.name}:{dedup_key}".encode()).hexdigest()[:32]


def start_agent(work: EventWork) -> HandlerResult:
    """Generic trigger: run `route.agent` on a thread of its own for this event.

    A thread already waiting at its gate gets no new input (skipped); one that stopped mid-run is
    continued; one that finished is left alone. So duplicates never start a second run.
    """
    rt, route = work.rt, work.route
    thread_id = event_thread_id(route, work.dedup_key)
    args_for = route_args.get(route.name)
    args = args_for(work.facts) if args_for else {"resource_gid": work.facts.resource_gid}
    ctx = rt.context(actor=f"agent:{route.agent}")
    request = {
        "agent": route.agent,
        "args": dict(args),
        "trigger": "event",
        "trigger_info": {"route": route.name, "inbox_id": work.inbox_id, "dedup_key": work.dedup_key},
    }
    with thread_lock(rt.engine, thread_id, wait_s=work.lock_wait_s):
        how, outcome = run_once(rt.graph, ctx, thread_id, request)
    if how == "started" and outcome.status == "awaiting_approval":
        supersede_older(rt, thread_id)
    if how == "waiting":
        return HandlerResult("skipped", "thread waits at its approval gate", thread_id, "awaiting_approval")
    if how == "finished":
        return HandlerResult("skipped", "event already handled", thread_id, "noop")
    detail = "continued an interrupted run" if how == "continued" else "agent run"
    return HandlerResult("done", detail, thread_id, _run_outcome(outcome))


# Per-route request arguments for `start_agent` (structured event fields only).
route_args: dict[str, Callable[[EventFacts], Mapping[str, Any]]] = {}

HANDLERS: dict[str, Handler] = {
    "resume_approval": resume_approval,
    "start_agent": start_agent,
}


def hand_on(work: EventWork, routes: list[Route] | None = None) -> HandlerResult | None:
    """Run the next route after `work.route` in the table that matches the same event, as that
    route (its name, agent and handler): how a handler that does not want an event lets the agent
    behind it see it. None when no later route matches."""
    from service.events.router import ROUTES

    table = ROUTES if routes is None else routes
    mine = next((i for i, r in enumerate(table) if r.name == work.route.name), len(table))
    for route in table[mine + 1 :]:
        if route.match(work.facts) and route.handler in HANDLERS:
            return HANDLERS[route.handler](dataclasses.replace(work, route=route))
    return None


def register_handler(name: str, handler: Handler) -> None:
    if name in HANDLERS and HANDLERS[name] is not handler:
        raise ValueError(f"handler {name!r} is already registered")
    HANDLERS[name] = handler
