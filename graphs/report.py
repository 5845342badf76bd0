"""Report: what happened to every action, as data and as markdown; final statuses in the repo.

The only Asana write here is an optional result comment on the approval task, made through the
executor (its own idempotency key, ledger entry and audit row) like any other auto action.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Literal

from langgraph.runtime import Runtime
from pydantic import BaseModel, Field

from agents.proposal import Action, ActionKind, ApprovalClass, DecisionType, Proposal
from graphs.approval import agent_action_count
from graphs.context import RunContext, current_thread_id
from graphs.executor import Executor
from graphs.policy import tag_comment
from graphs.ports import AuditRecord, LedgerStatus
from graphs.state import ActionResult, RunState, decisions_of, proposal_of, results_of

ProposalOutcome = Literal["applied", "partially_applied", "rejected", "failed", "denied", "empty", "error"]


class RunReport(BaseModel):
    thread_id: str
    status: ProposalOutcome
    proposal_id: str | None = None
    agent: str | None = None
    title: str | None = None
    error: str | None = None
    counts: dict[str, int] = Field(default_factory=dict)
    created: list[dict[str, Any]] = Field(default_factory=list)
    conflicts: list[dict[str, Any]] = Field(default_factory=list)
    failures: list[dict[str, Any]] = Field(default_factory=list)
    approval_task_gid: str | None = None
    decided_by: str | None = None
    markdown: str = ""


def outcome(results: list[ActionResult], proposal: Proposal) -> ProposalOutcome:
    if not results:
        return "empty"
    asked = [r for r in results if proposal.actions[r.index].approval_class == ApprovalClass.NEEDS_APPROVAL]
    if asked and all(r.status == LedgerStatus.REJECTED for r in asked):
        return "rejected"  # whatever was auto-applied, the reviewer said no to the proposal itself
    statuses = {r.status for r in results}
    if statuses == {LedgerStatus.DONE}:
        return "applied"
    if LedgerStatus.DONE in statuses:
        return "partially_applied"
    if LedgerStatus.REJECTED in statuses:
        return "rejected"
    if statuses & {LedgerStatus.FAILED, LedgerStatus.CONFLICT, LedgerStatus.PENDING}:
        return "failed"
    return "denied"


def build_report(
    thread_id: str,
    proposal: Proposal,
    results: dict[int, ActionResult],
    *,
    approval_task_gid: str | None,
    decided_by: str | None,
) -> RunReport:
    own = [results[i] for i in range(agent_action_count(proposal)) if i in results]
    everything = [results[i] for i in sorted(results)]
    report = RunReport(
        thread_id=thread_id,
        status=outcome(own, proposal),
        proposal_id=proposal.id,
        agent=proposal.agent,
        title=proposal.title,
        counts=dict(Counter(r.status.value for r in everything)),
        created=[
            {"index": r.index, "kind": r.kind, "gid": r.gid, "ref": proposal.actions[r.index].ref}
            for r in everything
            if r.status == LedgerStatus.DONE and r.gid and r.kind.startswith("create_")
        ],
        conflicts=[
            {"index": r.index, "kind": r.kind, "target": r.target, **c}
            for r in everything
            for c in r.conflicts
        ],
        failures=[
            {"index": r.index, "kind": r.kind, "target": r.target, "message": r.message}
            for r in everything
            if r.status == LedgerStatus.FAILED
        ],
        approval_task_gid=approval_task_gid,
        decided_by=decided_by,
    )
    report.markdown = render_markdown(report, proposal, everything)
    return report


def render_markdown(report: RunReport, proposal: Proposal, results: list[ActionResult]) -> str:
    lines = [f"## {proposal.title}", "", f"**Outcome:** {report.status.replace('_', ' ')}"]
    if report.decided_by:
        lines.append(f"**Decided by:** {report.decided_by}")
    if not results:  # a header over no rows reads like something went missing
        lines += ["", "No actions: nothing to write."]
    else:
        lines += ["", "| # | action | target | status | note |", "|---|---|---|---|---|"]
    for r in results:
        note = (r.message or "").replace("|", "\\|").replace("\n", " ")
        # Action numbers count from 1, as `approvals show` and the approval card number them.
        lines.append(f"| {r.index + 1} | {r.kind} | {r.target or r.gid or '-'} | {r.status.value} | {note} |")
    if report.conflicts:
        lines += ["", "### Conflicts (not written)"]
        lines += [
            f"- #{c['index'] + 1} {c['field']}: proposed from {c['before']!r}, Asana now has {c['now']!r}"
            for c in report.conflicts
        ]
    if report.failures:
        lines += ["", "### Failures"]
        lines += [f"- #{f['index'] + 1} {f['kind']}: {f['message']}" for f in report.failures]
    return "\n".join(lines)


def error_report(thread_id: str, error: str, agent: str | None) -> RunReport:
    return RunReport(
        thread_id=thread_id, status="error", agent=agent, error=error, markdown=f"## Run failed\n\n{error}"
    )


SURFACES = {
    "cli": "the CLI",
    "api": "the HTTP API",
    "chat": "chat",
    "chatui": "Agent Chat UI",
    "asana": "Asana",
}


SYSTEM_DECIDERS = {
    "system:expired": "nobody before the approval was due (expired)",
    "system:superseded": "nobody: a newer proposal for the same scope replaced this one (superseded)",
}


def decided_where(decided_by: str | None) -> str:
    """`po in the CLI` from `cli:po`: the surface is the identity's prefix."""
    if not decided_by:
        return "an unknown reviewer"
    if decided_by in SYSTEM_DECIDERS:
        return SYSTEM_DECIDERS[decided_by]
    surface, sep, who = decided_by.partition(":")
    if sep and surface in SURFACES:
        return f"{who} in {SURFACES[surface]}"
    return decided_by


def _result_comment(report: RunReport, tag: str) -> str:
    counts = ", ".join(f"{n} {s}" for s, n in sorted(report.counts.items()))
    lines = [
        tag_comment(
            f"Decided by {decided_where(report.decided_by)}. Result: {report.status.replace('_', ' ')} "
            f"({counts}).",
            tag,
        )
    ]
    lines += [
        f"- conflict on #{c['index'] + 1} {c['field']}: Asana now has {c['now']!r}" for c in report.conflicts
    ]
    # Only what failed, never the error text (Asana's or ours): it may quote request data, and the
    # full reason is in the run report and the audit log for people who may see it.
    lines += [
        f"- failed #{f['index'] + 1} {f['kind']}: not applied (the reason is in sprintpilot's run report)"
        for f in report.failures
    ]
    return "\n".join(lines)


def _task_status(state: RunState) -> str | None:
    """The approval status that mirrors the decision; None when it was taken in Asana itself."""
    if str(state.get("decided_by") or "").startswith("asana:"):
        return None
    types = {d.type for d in decisions_of(state).values()}
    return "rejected" if types == {DecisionType.REJECT} else "approved"


def report_node(state: RunState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    ctx = runtime.context
    thread_id = current_thread_id()
    if state.get("error") or not state.get("proposal"):
        report = error_report(
            thread_id, state.get("error") or "the run produced no proposal", state.get("agent")
        )
        ctx.repo.set_run_status(thread_id, "error", report.error)
        ctx.audit.append(
            AuditRecord(
                actor="system", event="run.failed", outcome="failed", thread_id=thread_id, reason=report.error
            )
        )
        return {"report": report.model_dump(mode="json")}

    proposal = proposal_of(state)
    results = results_of(state)
    approval_task_gid = state.get("approval_task_gid")
    report = build_report(
        thread_id, proposal, results, approval_task_gid=approval_task_gid, decided_by=state.get("decided_by")
    )
    update: dict[str, Any] = {}
    if approval_task_gid and state.get("decisions"):
        ex = Executor(ctx, thread_id, proposal, phase="report")
        note = Action(
            kind=ActionKind.POST_COMMENT,
            target=approval_task_gid,
            params={"text": _result_comment(report, ctx.policy.comment_tag)},
            reason="result of the approved proposal",
        )
        posted = ex.execute(len(proposal.actions), note, actor=f"agent:{proposal.agent}")
        close = Action(
            kind=ActionKind.CLOSE_APPROVAL_TASK,
            target=approval_task_gid,
            params={"status": _task_status(state)},
            reason="the decision, mirrored on the approval task",
        )
        closed = ex.execute(len(proposal.actions) + 1, close, actor=f"agent:{proposal.agent}")
        update["results"] = {
            str(posted.index): posted.model_dump(mode="json"),
            str(closed.index): closed.model_dump(mode="json"),
        }
    ctx.repo.set_proposal_status(proposal.id, report.status, approval_task_gid)
    ctx.repo.set_run_status(thread_id, "completed", report.status)
    ctx.audit.append(
        AuditRecord(
            actor=f"agent:{proposal.agent}",
            event="run.finished",
            outcome="ok",
            thread_id=thread_id,
            proposal_id=proposal.id,
            reason=report.status,
            details={"counts": report.counts},
        )
    )
    return {**update, "report": report.model_dump(mode="json")}
