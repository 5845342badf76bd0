"""A plan made in chat replaces the older waiting plan for the same backlog, as a CLI plan does;
and approving a plan that a newer one replaced is refused at the gate, whichever surface asks.

Reproduction (walkthrough): `sprintpilot plan` left a Sprint 24 proposal waiting; a chat `plan
Product Backlog` added a second; approving both made two "Sprint 24" projects in Asana."""

from __future__ import annotations

import uuid

from graphs.runner import start_run
from service.approvals import build_decisions, decide, find_proposal, pending_request
from service.chat_runtime import chat_session
from service.runtime import Runtime
from tests.chat.conftest import PRIYA


def _cli_plan(rt: Runtime, capacity: float | None = None) -> str:
    """A plan as a run without the CLI's after-run step: two waiting plans about one backlog."""
    thread = uuid.uuid4().hex
    ws = rt.resolve_workspace()
    ctx = rt.context(actor="agent:planner", approver_gid=rt.approver_for(ws, None))
    args: dict[str, object] = {"project": "Product Backlog"}
    if capacity is not None:
        args["capacity"] = capacity  # another plan, not a repeat of the waiting one
    out = start_run(rt.graph, ctx, thread, {"agent": "planner", "args": args, "trigger": "cli"})
    assert out.status == "awaiting_approval"
    return str(out.interrupt["proposal_id"])  # type: ignore[index]


def _sprint_projects(rt: Runtime) -> list[str]:
    ws = rt.resolve_workspace()
    return [p.name or "" for p in rt.asana.projects(ws) if (p.name or "").startswith("Sprint 24")]


def test_a_chat_plan_closes_the_older_waiting_plan(rt: Runtime) -> None:
    older = _cli_plan(rt)
    events = list(chat_session(rt, "t-plan", PRIYA).send("plan Product Backlog capacity 10"))
    assert any(e.kind == "approval" for e in events)
    status = rt.repo.get_proposal(older)
    assert status is not None and status.status == "superseded"


def test_approving_a_replaced_plan_is_refused_and_nothing_is_written_twice(rt: Runtime) -> None:
    older = _cli_plan(rt)
    newer = _cli_plan(rt, capacity=10)  # both wait: nothing closed the older one
    for pid, expect in ((older, "pending"), (newer, "pending")):
        record = rt.repo.get_proposal(pid)
        assert record is not None and record.status == expect

    def approve(pid: str) -> str | None:
        record = find_proposal(rt, pid)
        request = pending_request(rt, record)
        outcome = decide(rt, record, build_decisions(request), f"cli:{PRIYA}", request.get("digest"))
        return outcome.invalid_decision

    refused = approve(older)
    assert refused is not None and refused.startswith(
        f"superseded: the newer proposal {newer[:12]} (pending)"
    )
    assert approve(newer) is None
    assert _sprint_projects(rt) == ["Sprint 24"]
    refused = approve(older)  # the newer one is applied now: still refused
    assert refused is not None and f"{newer[:12]} (applied)" in refused
    assert _sprint_projects(rt) == ["Sprint 24"]
    # Rejecting the replaced one stays possible.
    record = find_proposal(rt, older)
    request = pending_request(rt, record)
    outcome = decide(
        rt, record, build_decisions(request, reject_all=True), f"cli:{PRIYA}", request.get("digest")
    )
    assert outcome.status == "done"
    rejected = rt.repo.get_proposal(older)
    assert rejected is not None and rejected.status == "rejected"
