"""The approval gate: one interrupt carrying a HumanInTheLoopMiddleware-shaped request.

Everything before `interrupt()` is pure (it re-runs on resume). A refused answer is audited and
the node routes back to itself, which raises a fresh interrupt that also shows the error; only a
valid answer moves on to apply.
"""

from __future__ import annotations

from typing import Any, Literal

from langgraph.runtime import Runtime
from langgraph.types import Command, interrupt

from agents.proposal import ApprovalClass, DecisionType, Proposal, action_args
from graphs.context import RunContext, current_thread_id
from graphs.decisions import AcceptedDecisions, InvalidDecision, validate_resume
from graphs.policy import annotate, evaluate, with_tagged_comments
from graphs.ports import AuditRecord
from graphs.state import RunState, Verdict, proposal_of, verdicts_of

ALLOWED_DECISIONS = ["approve", "edit", "reject"]
# Where a gate goes: back to itself (a refused answer asks again) or on to apply.
GateNext = Literal["gate", "apply"]


SUMMARY_ACTION = "apply_proposal"


def action_requests_of(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """One request per action waiting for approval, whichever shape the payload has."""
    return list(payload.get("actions") or payload.get("action_requests") or [])


def action_numbers(payload: dict[str, Any]) -> list[int]:
    """The number of each action waiting for approval: its place in the proposal, counted from 1.

    Every human-facing listing uses it (`approvals show`, the chat card, the Asana comment, the
    apply report, refusal messages), and `--reject-action N` / `edit N` take it; actions that
    apply automatically keep their numbers, so the waiting ones may skip some. The JSON fields
    named `index` stay 0-based.
    """
    requests = action_requests_of(payload)
    indices = payload.get("action_indices")
    if isinstance(indices, list) and len(indices) == len(requests):
        return [int(i) + 1 for i in indices]
    return list(range(1, len(requests) + 1))


def number_ranges(numbers: list[int]) -> str:
    """`1-4, 7, 9-10`: action numbers for a message."""
    spans: list[list[int]] = []
    for n in sorted(set(numbers)):
        if spans and n == spans[-1][1] + 1:
            spans[-1][1] = n
        else:
            spans.append([n, n])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in spans) or "none"


def _summary_request(
    proposal: Proposal, requests: list[dict[str, Any]], numbers: list[int], error: str | None
) -> dict[str, Any]:
    """One "apply this proposal" request whose description lists every action it would apply."""
    lines = []
    if error:
        lines += [f"Your last answer was refused: {error}", ""]
    lines += [f"{proposal.title}: {len(requests)} action(s) need your approval.", ""]
    for n, req in zip(numbers, requests, strict=True):
        target = (req.get("args") or {}).get("target") or "(new)"
        lines.append(
            f"{n}. {req['name']} → {target}: {str(req.get('description') or '').split(' (policy:')[0]}"
        )
    lines += [
        "",
        "Approve applies all of them; reject applies none. To decide single actions, use "
        "`approve N,M` / `edit N {json}` in sprintpilot chat, the CLI or the HTTP API.",
    ]
    return {
        "name": SUMMARY_ACTION,
        "args": {"proposal_id": proposal.id, "actions": len(requests)},
        "description": "\n".join(lines),
    }


def approval_request(
    proposal: Proposal,
    verdicts: list[Verdict],
    approval_task_gid: str | None,
    error: str | None = None,
    *,
    summary: bool = False,
) -> dict[str, Any]:
    """The interrupt payload: HITL `action_requests`/`review_configs` plus what a reviewer needs.

    `summary`: for HITL UIs that render only some requests (LangChain's Agent Chat UI shows the
    first), the requests are one `apply_proposal` action whose description lists them all, and the
    per-action list moves to `actions`; one approve/reject then means exactly what was shown.
    """
    pending = [v for v in verdicts if v.approval_class == ApprovalClass.NEEDS_APPROVAL]
    requests = []
    for v in pending:
        action = proposal.actions[v.index]
        description = f"{action.reason} (policy: {v.note})" if action.reason else f"policy: {v.note}"
        requests.append({"name": action.kind.value, "args": action_args(action), "description": description})
    if summary:
        shown = [_summary_request(proposal, requests, [v.index + 1 for v in pending], error)]
        configs = [{"action_name": SUMMARY_ACTION, "allowed_decisions": ["approve", "reject"]}]
    else:
        shown = requests
        configs = [
            {
                "action_name": proposal.actions[v.index].kind.value,
                "allowed_decisions": list(ALLOWED_DECISIONS),
            }
            for v in pending
        ]
    payload: dict[str, Any] = {
        "action_requests": shown,
        "review_configs": configs,
        "action_indices": [v.index for v in pending],
        "proposal_id": proposal.id,
        "agent": proposal.agent,
        "title": proposal.title,
        "summary_markdown": proposal.summary_markdown,
        "approval_task_gid": approval_task_gid,
        "digest": proposal.digest(),
    }
    if summary:
        payload["actions"] = requests
    if error:
        payload["error"] = error
    return payload


def gate_node(state: RunState, runtime: Runtime[RunContext]) -> Command[GateNext]:
    proposal = proposal_of(state)
    verdicts = verdicts_of(state)
    if not any(v.approval_class == ApprovalClass.NEEDS_APPROVAL for v in verdicts):
        return Command(goto="apply")
    invalid = state.get("invalid_decisions") or []
    payload = approval_request(
        proposal, verdicts, state.get("approval_task_gid"), invalid[-1] if invalid else None
    )
    answer = interrupt(payload)

    # From here on the node runs once per answer: reads and audit rows are fine.
    return settle_answer(runtime.context, state, proposal, verdicts, payload, answer)


def settle_answer(
    ctx: RunContext,
    state: RunState,
    proposal: Proposal,
    verdicts: list[Verdict],
    payload: dict[str, Any],
    answer: Any,
) -> Command[GateNext]:
    """Validate a reviewer's answer (digest, count, re-validated edits) and route: back to the gate
    with the refusal audited, or on to apply with the decisions recorded. Shared by every gate."""
    thread_id = current_thread_id()
    scope = ctx.scope_checker()

    def reevaluate(edited: Proposal) -> tuple[Proposal, list[Verdict]]:
        policy = ctx.policy_for(edited.scope.workspace_gid)
        tagged = with_tagged_comments(edited, policy)
        new_verdicts = evaluate(tagged, policy, scope)
        return annotate(tagged, new_verdicts), new_verdicts

    try:
        accepted = validate_resume(
            answer, proposal=proposal, verdicts=verdicts, digest=payload["digest"], reevaluate=reevaluate
        )
    except InvalidDecision as err:
        return refuse(ctx, thread_id, proposal, answer, str(err))
    stale = _superseded(ctx, proposal, accepted)
    if stale is not None:
        return refuse(ctx, thread_id, proposal, answer, stale)
    _record(ctx, thread_id, proposal, accepted, state.get("approval_task_gid"))
    return Command(
        goto="apply",
        update={
            "proposal": accepted.proposal.model_dump(mode="json"),
            "verdicts": [v.model_dump(mode="json") for v in accepted.verdicts],
            "decisions": {str(i): d.model_dump(mode="json") for i, d in accepted.by_index.items()},
            "decided_by": accepted.decided_by,
        },
    )


def refuse(
    ctx: RunContext,
    thread_id: str,
    proposal: Proposal,
    answer: Any,
    reason: str,
    event: str = "decision.invalid",
) -> Command[GateNext]:
    """Back to the gate with the refusal audited (`event`); the thread keeps waiting unchanged."""
    who = answer.get("decided_by") if isinstance(answer, dict) else None
    ctx.audit.append(
        AuditRecord(
            actor=f"human:{who}" if isinstance(who, str) and who else "unknown",
            event=event,
            outcome="denied",
            thread_id=thread_id,
            proposal_id=proposal.id,
            reason=reason,
        )
    )
    return Command(goto="gate", update={"invalid_decisions": [reason]})


def _superseded(ctx: RunContext, proposal: Proposal, accepted: AcceptedDecisions) -> str | None:
    """Why approving `proposal` would apply a stale plan: a newer proposal about the same subject
    (the next sprint of one backlog) waits or was applied, whichever surface made it. Checked at
    the decision, the one place every surface passes (a chat plan did not close the CLI's older
    one, and approving both made two "Sprint 24" projects). Rejecting it stays possible."""
    if not proposal.subject or all(d.type == DecisionType.REJECT for d in accepted.by_index.values()):
        return None
    newer = ctx.repo.newer_about(proposal)
    if not newer:
        return None
    pid, status = newer[-1]
    return (
        f"superseded: the newer proposal {pid[:12]} ({status}) is about the same thing "
        f"({proposal.subject}); decide that one, this one can only be rejected"
    )


def _record(
    ctx: RunContext,
    thread_id: str,
    proposal: Proposal,
    accepted: AcceptedDecisions,
    approval_task_gid: str | None,
) -> None:
    # The compare-and-set first: a second decider is refused before anything is audited for it.
    ctx.repo.save_decisions(proposal.id, list(accepted.by_index.values()), accepted.decided_by)
    for index, decision in accepted.by_index.items():
        action = accepted.proposal.actions[index]
        ctx.audit.append(
            AuditRecord(
                actor=f"human:{accepted.decided_by}",
                event=f"decision.{decision.type.value}",
                outcome="ok",
                thread_id=thread_id,
                proposal_id=proposal.id,
                action_index=index,
                target=action.target,
                before=proposal.actions[index].model_dump(mode="json") if decision.type == "edit" else None,
                after=action.model_dump(mode="json") if decision.type == "edit" else None,
                reason=decision.message,
                details={"digest": proposal.digest()},
            )
        )
    types = {d.type.value for d in accepted.by_index.values()}
    status = (
        "rejected" if types == {"reject"} else "approved" if "reject" not in types else "partially_approved"
    )
    ctx.repo.set_proposal_status(proposal.id, status, approval_task_gid)
    ctx.repo.set_run_status(thread_id, "applying")
