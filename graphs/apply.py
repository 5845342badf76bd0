"""Apply: after a valid decision, execute every approved/edited action in order, exactly once.

Auto actions done at publish time come back from the ledger (their gids still resolve refs),
rejected ones are settled as REJECTED with an audit row, and an action whose `ref:` producer did
not succeed is not attempted. Re-running this node (crash + `invoke(None)`, or a new process)
re-executes nothing that finished: the ledger decides.
"""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from agents.proposal import DecisionType
from graphs.context import RunContext, current_thread_id
from graphs.executor import Executor, InOrder, dependency_block
from graphs.ports import LedgerStatus
from graphs.publish import POLICY_ACTOR
from graphs.state import RunState, decisions_of, proposal_of, verdicts_of


def apply_node(state: RunState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    ctx = runtime.context
    thread_id = current_thread_id()
    proposal = proposal_of(state)
    decisions = decisions_of(state)
    decided_by = state.get("decided_by") or "unknown"
    ex = Executor(ctx, thread_id, proposal, phase="apply")
    run = InOrder(ex)
    agent_actor = f"agent:{proposal.agent}"
    human_actor = f"human:{decided_by}"
    for v in verdicts_of(state):
        action = proposal.actions[v.index]
        if v.approval_class == "denied":
            ex.settle(v.index, action, LedgerStatus.DENIED, v.note, actor=POLICY_ACTOR)
            continue
        actor, details = agent_actor, None
        if v.approval_class == "needs_approval":
            decision = decisions.get(v.index)
            if decision is None:  # cannot happen after a valid gate; refuse rather than guess
                ex.settle(v.index, action, LedgerStatus.FAILED, "no decision recorded", actor=POLICY_ACTOR)
                continue
            if decision.type == DecisionType.REJECT:
                ex.settle(
                    v.index,
                    action,
                    LedgerStatus.REJECTED,
                    decision.message or "rejected by reviewer",
                    actor=human_actor,
                    details={"decided_by": decided_by},
                )
                continue
            actor, details = human_actor, {"decision": decision.type.value, "decided_by": decided_by}
        if dependency_block(ex, v.index, action, v.depends_on, actor=actor) is None:
            run.execute(v.index, action, actor=actor, details=details)
    run.flush()
    return {"results": {str(i): r.model_dump(mode="json") for i, r in ex.results.items()}}
