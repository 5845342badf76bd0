"""Approval surfaces shared by the CLI (and later the HTTP API and chat).

All of them end in `graphs.runner.resume_run` on the proposal's thread, so the graph's gate
validates every answer the same way (digest, count, re-validated edits) whatever the surface.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from agents.proposal import Action, ActionKind, Decision, DecisionType, EditedAction
from graphs.approvers import SERVER_DECIDERS, bare_identity, surface_of
from graphs.executor import Executor
from graphs.gate import action_numbers, action_requests_of, number_ranges
from graphs.policy import tag_comment
from graphs.ports import AuditRecord
from graphs.runner import RunOutcome, pending_interrupt, recover_run, resume_run
from graphs.visibility import Person, Viewer
from service.db.feedback import record_rejections
from service.db.proposals import ProposalRecord
from service.events.locks import ThreadLocked, thread_lock
from service.runtime import Runtime
from tools.asana.errors import is_transient
from tools.errors import SprintpilotError, UpstreamError, UserError

log = logging.getLogger(__name__)


class ApplyInterrupted(UpstreamError):
    """Approved work stopped on a transient Asana fault; the ledger lets it resume without
    duplicates (the API answers 503 with the hint; the decision itself is recorded)."""

    http_status = 503


class ApprovalError(UserError, RuntimeError):
    """A decision that cannot be made (unknown proposal, nothing pending, bad edit)."""


class NotAnApprover(ApprovalError):
    """The decider is not one of the configured approvers (or none are configured)."""

    http_status = 403


# Asana's approval_status values and the decision each one means for every pending action.
ASANA_STATUS_DECISION = {
    "approved": DecisionType.APPROVE,
    "rejected": DecisionType.REJECT,
    "changes_requested": DecisionType.REJECT,
}


MIN_ID_PREFIX = 6


@dataclass
class PendingApproval:
    proposal: ProposalRecord
    request: dict[str, Any]


def find_proposal(rt: Runtime, ref: str) -> ProposalRecord:
    """A proposal by id or unique id prefix (what `approvals list` shows)."""
    exact = rt.repo.get_proposal(ref)
    if exact is not None:
        return exact
    if len(ref) < MIN_ID_PREFIX:
        # A slip of the keyboard ("9") must not pick, and approve, whichever proposal it matches.
        raise ApprovalError(
            f"give at least {MIN_ID_PREFIX} characters of the proposal id, not {ref!r} "
            "(`sprintpilot approvals list` shows 12)"
        )
    matches = rt.repo.find_by_prefix(ref, limit=2)
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise ApprovalError(f"no proposal {ref!r}; see `sprintpilot approvals list`")
    raise ApprovalError(f"{len(matches)} proposals start with {ref!r}; give more characters")


def graph_for(rt: Runtime, thread_id: str) -> Any:
    """The compiled graph a thread runs on: the chat graph for chat threads, else the supervisor."""
    run = rt.repo.get_run(thread_id)
    if run is not None and run.trigger == "chat" and rt.chat_graph is not None:
        return rt.chat_graph
    return rt.graph


def pending_request(rt: Runtime, proposal: ProposalRecord) -> dict[str, Any]:
    request = pending_interrupt(graph_for(rt, proposal.thread_id), proposal.thread_id)
    if request is None or request.get("proposal_id") != proposal.id:
        raise ApprovalError(
            f"proposal {proposal.id[:12]} is not waiting for approval ({decided_text(rt, proposal)})"
        )
    return request


def decided_text(rt: Runtime, proposal: ProposalRecord) -> str:
    """ "approved by cli:po at 2026-12-05 05:10 UTC", or the bare status when nobody decided."""
    fresh = rt.repo.get_proposal(proposal.id)
    if fresh is None:
        return f"status {proposal.status}"
    who = sorted({d.decided_by for d in fresh.decisions})
    status = fresh.status.value
    if not who:
        return f"status {status}"
    when = fresh.decided_at.strftime("%Y-%m-%d %H:%M UTC") if fresh.decided_at else "an unknown time"
    return f"already decided by {', '.join(who)} at {when}; status {status}"


def pending(rt: Runtime) -> list[PendingApproval]:
    out = []
    for p in rt.repo.pending_approvals():
        request = pending_interrupt(graph_for(rt, p.thread_id), p.thread_id)
        if request is not None and request.get("proposal_id") == p.id:
            out.append(PendingApproval(p, request))
    return out


def build_decisions(
    request: dict[str, Any],
    *,
    reject_all: bool = False,
    reject: dict[int, str] | None = None,
    edits: dict[int, str] | None = None,
    message: str | None = None,
) -> list[Decision]:
    """One decision per action request; `reject` and `edits` are keyed by action number, as
    `approvals show` prints it (`graphs.gate.action_numbers`: the place in the proposal from 1).

    `edits` maps a number to JSON with `params` (merged over the proposed params) and/or `target`.
    """
    requests = action_requests_of(request)
    numbers = action_numbers(request)
    for n in [*(reject or {}), *(edits or {})]:
        if n not in numbers:
            raise ApprovalError(
                f"action number {n} is out of range: the actions waiting for approval are "
                f"{number_ranges(numbers)}"
            )
    decisions: list[Decision] = []
    for n, req in zip(numbers, requests, strict=True):
        if reject_all:
            decisions.append(Decision(type=DecisionType.REJECT, message=message or "rejected"))
        elif reject and n in reject:
            decisions.append(Decision(type=DecisionType.REJECT, message=reject[n] or message or "rejected"))
        elif edits and n in edits:
            decisions.append(Decision(type=DecisionType.EDIT, edited_action=_edited(req, edits[n], n)))
        else:
            decisions.append(Decision(type=DecisionType.APPROVE))
    return decisions


def _edited(req: dict[str, Any], raw: str, n: int) -> EditedAction:
    try:
        change = json.loads(raw)
    except json.JSONDecodeError as err:
        raise ApprovalError(f"edit for action {n} is not valid JSON: {err.msg}") from None
    if not isinstance(change, dict) or not set(change) <= {"params", "target"}:
        raise ApprovalError(f'edit for action {n} must be an object like {{"params": {{...}}}}')
    args = dict(req.get("args") or {})
    params = dict(args.get("params") or {})
    params.update(change.get("params") or {})
    args["params"] = params
    if "target" in change:
        args["target"] = change["target"]
    return EditedAction(name=req["name"], args=args)


def decide(
    rt: Runtime,
    proposal: ProposalRecord,
    decisions: list[Decision],
    decided_by: str,
    digest: str | None = None,
    *,
    lock_wait_s: float = 5.0,
) -> RunOutcome:
    """Resume the proposal's thread with `decisions`, holding the thread's run lock.

    Every surface (CLI, API, chat, Asana sync, worker) ends here, so two deciders at once are
    serialised: the second finds nothing pending and is told so. The lock is re-entrant, so the
    sweep and the worker, which already hold it, call this too.
    """
    refuse_unless_approver(rt, proposal, decided_by)
    with thread_lock(rt.engine, proposal.thread_id, wait_s=lock_wait_s):
        request = pending_request(rt, proposal)
        ctx = rt.context(actor=decided_by)
        graph = graph_for(rt, proposal.thread_id)
        outcome: RunOutcome | None = None
        try:
            outcome = resume_run(
                graph, ctx, proposal.thread_id, decisions, decided_by, digest or request.get("digest")
            )
            return outcome
        except SprintpilotError as err:
            if not is_transient(err):
                raise
            raise ApplyInterrupted(
                f"the decision is recorded, but applying stopped on a transient Asana error ({err}); "
                f"what was applied is kept and the rest resumes with `sprintpilot approvals resume "
                f"{proposal.id[:12]}` (the worker's sweep resumes it too)"
            ) from err
        finally:
            # Rejections as feedback, from the decisions the gate stored (none while the thread
            # still waits: the answer was refused).
            if outcome is None or outcome.status != "awaiting_approval":
                record_rejections(rt.engine, rt.repo, proposal.id)


def visible_to(rt: Runtime, who: Person | Viewer, proposal: ProposalRecord) -> bool:
    """Whether the person can see every project the proposal acts in (graphs/visibility.py).
    Callers checking many proposals pass one Viewer, so a project outside the cached set is
    asked of Asana once, not once per proposal."""
    viewer = who if isinstance(who, Viewer) else rt.viewer(who)
    return all(viewer.sees(gid) for gid in proposal.proposal.scope.project_gids)


def refuse_unless_approver(rt: Runtime, proposal: ProposalRecord, decided_by: str) -> None:
    """Only configured approvers (Asana identities) decide on a surface; audited when refused."""
    if surface_of(decided_by) in SERVER_DECIDERS:
        return
    reason = rt.approvers().refusal(decided_by)
    if reason is None:
        person = rt.directory.find(rt.resolve_workspace(), bare_identity(decided_by))
        if person is None or visible_to(rt, person, proposal):
            return
        # An approver decides only what they can see in Asana (same answer as a missing proposal).
        reason = f"{person.label} cannot see every project of proposal {proposal.id[:12]} in Asana"
    rt.audit.append(
        AuditRecord(
            actor=f"human:{decided_by}",
            event="decision.unauthorized",
            outcome="denied",
            thread_id=proposal.thread_id,
            proposal_id=proposal.id,
            reason=reason,
            details={"surface": surface_of(decided_by)},
        )
    )
    raise NotAnApprover(f"not allowed to decide: {reason}")


@dataclass
class SyncResult:
    proposal_id: str
    approval_task_gid: str
    asana_status: str
    outcome: RunOutcome | None


@dataclass
class AsanaDecision:
    """What an approval task says now: its status and, once decided, one decision per action."""

    status: str
    decided_by: str
    decisions: list[Decision] | None  # None while the task is still pending


def asana_decision(rt: Runtime, approval_task_gid: str, request: dict[str, Any]) -> AsanaDecision:
    """Events are compact, so the decision is whatever the approval task holds in Asana now.

    approved → approve every action; rejected / changes requested → reject every action, with the
    approver's latest comment as the reason when there is one. Who decided is Asana's own record
    (the story of the `approval_status` change), never the assignee field; a change by anyone the
    policy does not allow is set back to pending with a comment and audited, and decides nothing.
    """
    task = rt.asana.task(approval_task_gid)
    status = task.approval_status or "pending"
    decision_type = ASANA_STATUS_DECISION.get(status)
    if decision_type is None:
        return AsanaDecision(status, "asana:nobody", None)
    decider = _approval_changed_by(rt, approval_task_gid, status)
    allowed = _asana_approvers(rt, task)
    if decider is None or decider not in allowed:
        _refuse_asana_decision(rt, request, task, status, decider)
        return AsanaDecision("pending", f"asana:{decider or 'unknown'}", None)
    who = f"asana:{decider}"
    message = None
    if decision_type is DecisionType.REJECT:
        message = _latest_human_comment(rt, approval_task_gid) or f"{status.replace('_', ' ')} in Asana"
    count = len(action_requests_of(request))
    return AsanaDecision(status, who, [Decision(type=decision_type, message=message) for _ in range(count)])


@dataclass
class AsanaResume:
    """What resuming a proposal from its approval task did."""

    status: Literal["resumed", "continued", "pending", "decided", "no_task"]
    asana_status: str | None
    outcome: RunOutcome | None


def resume_from_asana(rt: Runtime, proposal: ProposalRecord, *, lock_wait_s: float = 5.0) -> AsanaResume:
    """Resume `proposal`'s thread with the decision its approval task holds in Asana now.

    The one place the Asana decision is read and applied (the `approvals sync` sweep and the
    worker's approval route both call it), under the thread's run lock: already decided → no-op;
    stopped mid-apply (worker killed) → continued from its checkpoint; still pending → left.
    """
    thread_id = proposal.thread_id
    graph = graph_for(rt, thread_id)
    with thread_lock(rt.engine, thread_id, wait_s=lock_wait_s):
        request = pending_interrupt(graph, thread_id)
        if request is None or request.get("proposal_id") != proposal.id:
            if graph.get_state({"configurable": {"thread_id": thread_id}}).next:
                outcome = recover_run(graph, rt.context(actor="system:approvals"), thread_id)
                return AsanaResume("continued", None, outcome)
            return AsanaResume("decided", None, None)
        gid = request.get("approval_task_gid") or proposal.approval_task_gid
        if not gid:
            return AsanaResume("no_task", None, None)
        decided = asana_decision(rt, gid, request)
        if decided.decisions is None:
            return AsanaResume("pending", decided.status, None)
        outcome = decide(rt, proposal, decided.decisions, decided.decided_by, request.get("digest"))
        return AsanaResume("resumed", decided.status, outcome)


# Statuses of a proposal whose work may still be unfinished: approved work, automatic work, and a
# "pending" one whose publish step (auto writes, the approval task) stopped before the gate.
UNFINISHED = ("approved", "partially_approved", "applying", "pending")


def resume(rt: Runtime, proposal: ProposalRecord, *, lock_wait_s: float = 5.0) -> RunOutcome | None:
    """Continue a proposal's run that stopped mid-way (a transient Asana error, Ctrl-C, a dead
    worker) from its last checkpoint, under the thread's lock. None when nothing was unfinished.

    The executor's ledger makes this safe to call any number of times: finished actions are read
    back, and a write whose answer was lost is probed for before it is tried again.
    """
    graph = graph_for(rt, proposal.thread_id)
    with thread_lock(rt.engine, proposal.thread_id, wait_s=lock_wait_s):
        if pending_interrupt(graph, proposal.thread_id) is not None:
            return None  # waiting for a human, not stuck
        if not graph.get_state({"configurable": {"thread_id": proposal.thread_id}}).next:
            return None
        return recover_run(graph, rt.context(actor="system:resume"), proposal.thread_id)


def resume_interrupted(rt: Runtime, *, lock_wait_s: float = 0.0) -> list[tuple[str, RunOutcome]]:
    """The sweep: continue every approved or automatic run that stopped before it finished.

    A thread another process holds right now is skipped (the next sweep looks again); a run that
    stops again on a transient error stays unfinished for the next sweep.
    """
    done: list[tuple[str, RunOutcome]] = []
    for status in UNFINISHED:
        for record in rt.repo.list_proposals(status=status, limit=500):
            try:
                outcome = resume(rt, record, lock_wait_s=lock_wait_s)
            except ThreadLocked:
                continue
            except SprintpilotError as err:
                if not is_transient(err):
                    raise
                continue
            if outcome is not None:
                done.append((record.id, outcome))
    return done


EXPIRED_BY = "system:expired"
SUPERSEDED_BY = "system:superseded"


@dataclass
class Closed:
    proposal_id: str
    status: Literal["expired", "superseded"]
    reason: str


def supersede_older(rt: Runtime, thread_id: str) -> list[Closed]:
    """Right after a run: when its proposal waits and has a subject, close the older waiting
    proposals about the same subject now, so Asana never shows two open approvals for one thing."""
    proposals = [p for p in rt.repo.pending_approvals() if p.thread_id == thread_id]
    if not proposals or not proposals[0].proposal.subject:
        return []
    body = proposals[0].proposal
    return close_stale(rt, subject=(body.agent, body.scope.workspace_gid, body.subject or ""), expire=False)


def close_stale(
    rt: Runtime,
    *,
    now: datetime | None = None,
    supersede: bool = True,
    expire: bool = True,
    subject: tuple[str, str, str] | None = None,
) -> list[Closed]:
    """Close what nobody will decide any more: approvals past their due time (expired), and an
    older waiting proposal about the same subject (`Proposal.subject`, e.g. the next sprint of
    one backlog) once a newer one waits (superseded).

    Each is resumed with "reject all" by a system identity, so nothing of it is applied, its
    approval task is closed with a comment, and the audit says why; then its status is set.
    """
    moment = now or rt.context().now()
    due = timedelta(hours=rt.settings.approval_due_hours)
    waiting = pending(rt)
    if subject is not None:
        waiting = [
            i
            for i in waiting
            if (
                i.proposal.proposal.agent,
                i.proposal.proposal.scope.workspace_gid,
                i.proposal.proposal.subject,
            )
            == subject
        ]
    newest: dict[tuple[str, str, str], str] = {}
    for item in sorted(waiting, key=lambda i: i.proposal.created_at):
        body = item.proposal.proposal
        if body.subject:
            newest[(body.agent, body.scope.workspace_gid, body.subject)] = item.proposal.id
    closed: list[Closed] = []
    for item in waiting:
        record = item.proposal
        body = record.proposal
        key = (body.agent, body.scope.workspace_gid, body.subject or "")
        created = record.created_at if record.created_at.tzinfo else record.created_at.replace(tzinfo=UTC)
        if supersede and body.subject and newest[key] != record.id:
            status: Literal["expired", "superseded"] = "superseded"
            who, reason = SUPERSEDED_BY, f"superseded by the newer proposal {newest[key][:12]}"
        elif expire and moment - created > due:
            status, who = "expired", EXPIRED_BY
            reason = f"expired: nobody decided within {rt.settings.approval_due_hours} h"
        else:
            continue
        decisions = build_decisions(item.request, reject_all=True, message=reason)
        try:
            decide(rt, record, decisions, who, item.request.get("digest"), lock_wait_s=0)
        except (ThreadLocked, ApprovalError):
            continue  # decided or running right now: the next sweep looks again
        rt.repo.set_proposal_status(record.id, status)
        closed.append(Closed(record.id, status, reason))
    return closed


def sync_from_asana(rt: Runtime, *, lock_wait_s: float = 5.0) -> list[SyncResult]:
    """Read each pending proposal's approval task in Asana and resume the threads decided there."""
    results = []
    for item in pending(rt):
        gid = item.request.get("approval_task_gid") or item.proposal.approval_task_gid
        if not gid:
            continue
        try:
            done = resume_from_asana(rt, item.proposal, lock_wait_s=lock_wait_s)
        except ThreadLocked:
            continue  # a worker or another surface is on this thread right now; next sweep looks again
        if done.status == "decided":
            continue  # decided meanwhile by another surface
        results.append(SyncResult(item.proposal.id, gid, done.asana_status or "pending", done.outcome))
    return results


def _approval_changed_by(rt: Runtime, task_gid: str, status: str) -> str | None:
    """The user who set the approval task to `status`, from its latest approval story."""
    changes = [
        s
        for s in rt.asana.stories(task_gid)
        if s.new_approval_status is not None or s.resource_subtype == "approval_status_changed"
    ]
    if not changes or changes[-1].new_approval_status not in (None, status):
        return None
    last = changes[-1]
    return last.created_by.gid if last.created_by else None


def _asana_approvers(rt: Runtime, task: Any) -> set[str]:
    """Gids allowed to decide in Asana: the configured approvers (SPRINTPILOT_APPROVERS, and for
    chat proposals SPRINTPILOT_CHAT_APPROVERS), matched as Asana users by email or gid; with none
    configured, the approval task's assignee."""
    from service.chat_runtime import ChatConfig

    refs = [*rt.settings.approvers, *ChatConfig().approvers]
    if not refs:
        return {task.assignee.gid} if task.assignee else set()
    ws = getattr(task, "workspace", None)
    ws_gid = ws.get("gid") if isinstance(ws, dict) else getattr(ws, "gid", None)
    workspace = ws_gid or rt.resolve_workspace()
    found = {ref: rt.directory.find(workspace, ref) for ref in refs}
    for ref, person in found.items():
        if person is None:
            log.warning(
                "approver %r is not an Asana user of workspace %s (give an email or gid)", ref, workspace
            )
    return {person.gid for person in found.values() if person is not None}


def _refuse_asana_decision(
    rt: Runtime, request: dict[str, Any], task: Any, status: str, decider: str | None
) -> None:
    """Set the approval back to pending, say why on the task, audit it; nothing is applied.

    Both writes restore our own approval task, so they are auto actions run by the proposal's
    idempotent executor (ledgered and audited like the report's result comment) rather than put
    up for approval, which would loop. Each refusal gets its own ledger indexes, so a second
    unauthorised change is undone too, and a retried sweep does not undo or comment twice.
    """
    who = decider or "someone Asana did not name"
    record = rt.repo.get_proposal(str(request.get("proposal_id") or ""))
    if record is None:
        return
    proposal = record.proposal
    earlier = [
        r for r in rt.audit.rows(limit=10_000, proposal_id=proposal.id) if r.event == "approval.unauthorized"
    ]
    # After the actions, the report's result comment (+0) and close (+1); then two per refusal.
    base = len(proposal.actions) + 2 + 2 * len(earlier)
    ex = Executor(rt.context(), record.thread_id, proposal, phase="report")
    comment = (
        f"This task was marked {status.replace('_', ' ')} by {who}, who may not decide this proposal; "
        "it is set back to pending and nothing was applied."
    )
    actor = "system:approvals"
    reset = Action(
        kind=ActionKind.RESET_APPROVAL_TASK, target=task.gid, reason="unauthorised decision undone"
    )
    ex.execute(base, reset, actor=actor)
    note = Action(
        kind=ActionKind.POST_COMMENT,
        target=task.gid,
        params={"text": tag_comment(comment, rt.context().policy.comment_tag)},
        reason="why the approval was set back",
    )
    ex.execute(base + 1, note, actor=actor)
    rt.audit.append(
        AuditRecord(
            actor=f"asana:{who}",
            event="approval.unauthorized",
            outcome="denied",
            thread_id=record.thread_id,
            proposal_id=proposal.id,
            target=task.gid,
            reason=f"{status} in Asana by a user who is not an allowed approver",
            details={"status": status, "changed_by": decider},
        )
    )


def _latest_human_comment(rt: Runtime, task_gid: str) -> str | None:
    bot = rt.asana.me().gid
    comments = [
        s
        for s in rt.asana.stories(task_gid)
        if s.type == "comment" and s.created_by is not None and s.created_by.gid != bot
    ]
    return comments[-1].text if comments else None
