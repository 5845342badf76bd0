"""The chat graph's approval gate: graphs/gate.py's interrupt and validation, plus approver rights.

It raises the same HumanInTheLoopMiddleware-shaped payload (`graphs.gate.approval_request`) and
validates and records the answer with the same `graphs.gate.settle_answer`, so a
decision made in chat is checked exactly like one from the CLI, API or Asana. Two additions:
- an identity not on the approver list is refused and audited (`decision.unauthorized`), and the
  request is raised again;
- an answer from LangChain's Agent Chat UI carries only `decisions`: the digest of the request it
  was shown (this very payload) and the configured UI identity are filled in;
- a user message that reached the thread while it waited (the Agent Server sends new input to an
  interrupted thread) is queued, and the request raised again says so in `notice`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from langgraph.runtime import Runtime
from langgraph.types import Command, interrupt

from agents.proposal import ApprovalClass
from graphs.approvers import Approvers, from_chat
from graphs.chat.history import queued_inputs
from graphs.context import RunContext, current_thread_id
from graphs.gate import GateNext, approval_request, refuse, settle_answer
from graphs.state import proposal_of, verdicts_of

ContextOf = Callable[[Runtime[Any]], RunContext]


def normalise_answer(answer: Any, digest: str, default_decider: str | None) -> Any:
    if not isinstance(answer, dict):
        return answer
    filled = dict(answer)
    filled.setdefault("digest", digest)
    if not filled.get("decided_by") and default_decider:
        filled["decided_by"] = default_decider
    return filled


def queued_notice(texts: list[str]) -> str:
    shown = "; ".join(repr(" ".join(t.split())[:120]) for t in texts)
    return (
        f"Not answered yet: {shown} arrived while this proposal waits for a decision; it is queued "
        "and will be answered once the proposal is approved, edited or rejected."
    )


def make_chat_gate(approvers: Approvers, default_decider: str | None, context_of: ContextOf) -> Any:
    def gate(state: dict[str, Any], runtime: Runtime[Any]) -> Command[GateNext]:
        proposal = proposal_of(state)  # type: ignore[arg-type]
        verdicts = verdicts_of(state)  # type: ignore[arg-type]
        if not any(v.approval_class == ApprovalClass.NEEDS_APPROVAL for v in verdicts):
            return Command(goto="apply")
        invalid = state.get("invalid_decisions") or []
        payload = approval_request(
            proposal, verdicts, state.get("approval_task_gid"), invalid[-1] if invalid else None, summary=True
        )
        queue = state.get("chat_queue") or []
        queued = queued_inputs(state.get("messages") or [], queue[0].get("tool_call_id") if queue else None)
        if queued:
            payload["notice"] = queued_notice([m.text for m in queued])
        answer = normalise_answer(interrupt(payload), payload["digest"], default_decider)

        ctx = context_of(runtime)
        thread_id = current_thread_id()
        who = answer.get("decided_by") if isinstance(answer, dict) else None
        who = from_chat(who) if isinstance(who, str) and who else None
        reason = approvers.refusal(who)
        if reason is not None:
            answered = {"decided_by": who} if who else None
            return refuse(ctx, thread_id, proposal, answered, reason, "decision.unauthorized")

        answer = {**answer, "decided_by": who} if isinstance(answer, dict) else answer
        return settle_answer(ctx, state, proposal, verdicts, payload, answer)  # type: ignore[arg-type]

    return gate
