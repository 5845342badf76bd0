"""Publish: before the gate, apply what needs nobody's approval and raise the approval request.

Auto actions (tagged comments, AI-suggestion fields, the approval task and its comment) go through
the same idempotent executor as approved ones. Denied actions are written to the ledger and audit
log here, so a refusal is on record even if nobody ever answers the approval request.
"""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from graphs.approval import APPROVAL_REF
from graphs.context import RunContext, current_thread_id
from graphs.executor import Executor, InOrder, dependency_block
from graphs.ports import LedgerStatus
from graphs.state import RunState, proposal_of, verdicts_of

POLICY_ACTOR = "system:policy"


def publish_node(state: RunState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    ctx = runtime.context
    thread_id = current_thread_id()
    proposal = proposal_of(state)
    verdicts = verdicts_of(state)
    ex = Executor(ctx, thread_id, proposal, phase="publish")
    run = InOrder(ex)
    agent_actor = f"agent:{proposal.agent}"
    for v in verdicts:
        action = proposal.actions[v.index]
        if v.approval_class == "denied":
            ex.settle(v.index, action, LedgerStatus.DENIED, v.note, actor=POLICY_ACTOR)
        elif (
            v.approval_class == "auto"
            and not v.deferred
            and dependency_block(ex, v.index, action, v.depends_on, actor=agent_actor) is None
        ):
            run.execute(v.index, action, actor=agent_actor)
    run.flush()
    approval_task_gid = ex.gids.get(APPROVAL_REF)
    waiting = any(v.approval_class == "needs_approval" for v in verdicts)
    ctx.repo.set_proposal_status(proposal.id, "pending" if waiting else "applying", approval_task_gid)
    ctx.repo.set_run_status(thread_id, "awaiting_approval" if waiting else "applying")
    return {
        "results": {str(i): r.model_dump(mode="json") for i, r in ex.results.items()},
        "approval_task_gid": approval_task_gid,
    }
