"""`GET /approvals`, `GET/POST /approvals/{id}`: the HTTP approval surface.

Decisions go through `service.approvals.decide`, i.e. the graph's gate, which re-validates them
exactly as for the CLI (digest the reviewer saw, one decision per action, edits re-checked).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from agents.proposal import Decision
from graphs.runner import NothingPending, ThreadBusy, pending_interrupt
from service.api.auth import require_api_token
from service.api.errors import ApiError
from service.api.state import api_state
from service.approvals import ApprovalError, decide, find_proposal, pending
from service.db.proposals import ProposalRecord

router = APIRouter(tags=["approvals"], dependencies=[Depends(require_api_token)])


class DecisionBody(BaseModel):
    """HumanInTheLoopMiddleware-style resume: one decision per action request, in order."""

    model_config = ConfigDict(extra="forbid")

    decisions: list[Decision] = Field(min_length=1)
    decided_by: str = Field(min_length=1, max_length=120, pattern=r"^[^\s\x00-\x1f]+( [^\s\x00-\x1f]+)*$")
    digest: str = Field(min_length=1, max_length=128)


def _summary(p: ProposalRecord) -> dict[str, Any]:
    return {
        "id": p.id,
        "thread_id": p.thread_id,
        "agent": p.agent,
        "title": p.title,
        "status": p.status.value,
        "digest": p.digest,
        "approval_task_gid": p.approval_task_gid,
        "created_at": p.created_at.isoformat(),
    }


def _find(rt: Any, ref: str) -> ProposalRecord:
    try:
        return find_proposal(rt, ref)
    except ApprovalError as err:
        raise ApiError(404, str(err)) from None


@router.get("/approvals")
def list_approvals(request: Request) -> dict[str, Any]:
    state = api_state(request)
    with state.runtime_factory() as rt:
        items = pending(rt)
    return {"approvals": [{"proposal": _summary(i.proposal), "request": i.request} for i in items]}


@router.get("/approvals/{proposal_id}")
def show_approval(proposal_id: str, request: Request) -> dict[str, Any]:
    state = api_state(request)
    with state.runtime_factory() as rt:
        record = _find(rt, proposal_id)
        req = pending_interrupt(rt.graph, record.thread_id)
    if req is not None and req.get("proposal_id") != record.id:
        req = None
    return {
        "proposal": _summary(record),
        "body": record.proposal.model_dump(mode="json"),
        "request": req,
    }


@router.post("/approvals/{proposal_id}")
def decide_approval(proposal_id: str, body: DecisionBody, request: Request) -> dict[str, Any]:
    state = api_state(request)
    with state.runtime_factory() as rt:
        record = _find(rt, proposal_id)
        try:
            outcome = decide(rt, record, body.decisions, f"api:{body.decided_by}", body.digest)
        except (ApprovalError, NothingPending, ThreadBusy) as err:
            raise ApiError(409, str(err)) from None
    if outcome.status == "awaiting_approval" and outcome.invalid_decision:
        raise ApiError(422, outcome.invalid_decision)
    return {
        "proposal_id": record.id,
        "thread_id": outcome.thread_id,
        "status": outcome.status,
        "report": outcome.report,
    }
