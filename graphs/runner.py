"""How callers (CLI, API, Celery tasks, evals, tests) drive the supervisor graph.

Every call runs with durability="sync" and the thread id as checkpoint key. New input is never
sent to a thread that is waiting on an approval (LangGraph would silently drop the interrupt and
start over), nor to one that already ran; resuming is only ever done with `Command(resume=...)`.
Callers serialise calls per thread (the service holds a Postgres advisory lock around these).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from langgraph.types import Command

from agents.proposal import Decision
from graphs.context import RunContext
from graphs.decisions import early_refusal
from graphs.ports import AuditRecord
from graphs.state import RunRequest
from tools.errors import ConflictError


class ThreadBusy(ConflictError, RuntimeError):
    """The thread already has a run (waiting for approval, crashed mid-way, or finished)."""


class NothingPending(ConflictError, RuntimeError):
    """resume_run on a thread that has no pending approval request."""


@dataclass
class RunOutcome:
    thread_id: str
    status: Literal["awaiting_approval", "done", "error"]
    interrupt: dict[str, Any] | None = None
    report: dict[str, Any] | None = None
    # The last refused decision, when the gate is asking again because of it.
    invalid_decision: str | None = None


def _config(thread_id: str) -> dict[str, Any]:
    return {"configurable": {"thread_id": thread_id}}


def pending_interrupt(graph: Any, thread_id: str) -> dict[str, Any] | None:
    """The approval request a thread is waiting on, or None."""
    snapshot = graph.get_state(_config(thread_id))
    interrupts = list(getattr(snapshot, "interrupts", ()) or ())
    if not interrupts:
        return None
    value = interrupts[0].value
    return dict(value) if isinstance(value, dict) else {"value": value}


def _outcome(graph: Any, thread_id: str) -> RunOutcome:
    snapshot = graph.get_state(_config(thread_id))
    values = snapshot.values or {}
    invalid = (values.get("invalid_decisions") or [None])[-1]
    pending = pending_interrupt(graph, thread_id)
    if pending is not None:
        return RunOutcome(thread_id, "awaiting_approval", interrupt=pending, invalid_decision=invalid)
    report = values.get("report")
    status: Literal["done", "error"] = (
        "error" if report is None or report.get("status") == "error" else "done"
    )
    return RunOutcome(thread_id, status, report=report, invalid_decision=invalid)


def start_run(
    graph: Any, ctx: RunContext, thread_id: str, request: RunRequest | dict[str, Any]
) -> RunOutcome:
    """Run a new request on a fresh thread until it needs a human or finishes."""
    snapshot = graph.get_state(_config(thread_id))
    if pending_interrupt(graph, thread_id) is not None:
        raise ThreadBusy(f"thread {thread_id} is waiting for an approval decision; resume it instead")
    if snapshot.next:
        raise ThreadBusy(f"thread {thread_id} stopped mid-run; continue it with recover_run")
    if snapshot.values:
        raise ThreadBusy(f"thread {thread_id} already has a run; start new work on a new thread id")
    req = request if isinstance(request, RunRequest) else RunRequest.model_validate(request)
    graph.invoke({"request": req.model_dump(mode="json")}, _config(thread_id), context=ctx, durability="sync")
    return _outcome(graph, thread_id)


def resume_run(
    graph: Any,
    ctx: RunContext,
    thread_id: str,
    decisions: Sequence[Decision | dict[str, Any]],
    decided_by: str,
    digest: str | None = None,
) -> RunOutcome:
    """Answer the pending approval request.

    `digest` should be the one the reviewer saw; when omitted the currently pending request's
    digest is used (only right for callers that fetched it just now, e.g. in the same request).
    """
    pending = pending_interrupt(graph, thread_id)
    if pending is None:
        raise NothingPending(f"thread {thread_id} has no pending approval request")
    value = {
        "decisions": [
            d.model_dump(mode="json", exclude_none=True) if isinstance(d, Decision) else d for d in decisions
        ],
        "decided_by": decided_by,
        "digest": digest if digest is not None else pending.get("digest", ""),
    }
    refusal = early_refusal(value, str(pending.get("digest", "")))
    if refusal is not None:
        # Audited as the gate would (decision.invalid); the thread keeps waiting unchanged.
        ctx.audit.append(
            AuditRecord(
                actor=f"human:{decided_by}" if decided_by else "unknown",
                event="decision.invalid",
                outcome="denied",
                thread_id=thread_id,
                proposal_id=pending.get("proposal_id"),
                reason=refusal,
            )
        )
        return RunOutcome(thread_id, "awaiting_approval", interrupt=pending, invalid_decision=refusal)
    graph.invoke(Command(resume=value), _config(thread_id), context=ctx, durability="sync")
    return _outcome(graph, thread_id)


def recover_run(graph: Any, ctx: RunContext, thread_id: str) -> RunOutcome:
    """Continue a run that stopped mid-way (crash, transient Asana outage) from its last checkpoint."""
    if pending_interrupt(graph, thread_id) is not None:
        return _outcome(graph, thread_id)
    snapshot = graph.get_state(_config(thread_id))
    if snapshot.next:
        graph.invoke(None, _config(thread_id), context=ctx, durability="sync")
    return _outcome(graph, thread_id)


RunOnce = Literal["started", "continued", "waiting", "finished"]


def run_once(
    graph: Any, ctx: RunContext, thread_id: str, request: RunRequest | dict[str, Any]
) -> tuple[RunOnce, RunOutcome]:
    """Run a request at most once on a deterministic thread (a day's stand-up, one event).

    A fresh thread starts; one that stopped mid-run (a crash, or a transient Asana error that
    stopped it before an outcome) is continued; one waiting at its gate gets no new input; one
    that finished is left alone. Callers hold the thread's lock.
    """
    if pending_interrupt(graph, thread_id) is not None:
        return "waiting", _outcome(graph, thread_id)
    snapshot = graph.get_state(_config(thread_id))
    if snapshot.next:
        return "continued", recover_run(graph, ctx, thread_id)
    if snapshot.values:
        return "finished", _outcome(graph, thread_id)
    return "started", start_run(graph, ctx, thread_id, request)
