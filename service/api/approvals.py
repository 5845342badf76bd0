"""`GET /approvals`, `GET/POST /approvals/{id}`: the HTTP approval surface.

Decisions go through `service.approvals.decide`, i.e. the graph's gate, which re-validates them
exactly as for the CLI (digest the reviewer saw, one decision per action, edits re-checked).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from agents.proposal import Decision
from graphs.runner import NothingPending, ThreadBusy, pending_interrupt
from graphs.visibility import Person
from service.api.auth import require_api_token
from service.api.errors import ApiError
from service.api.state import api_state
from service.approvals import ApprovalError, NotAnApprover, decide, find_proposal, pending, visible_to
from service.db.proposals import ProposalRecord
from tools.errors import UserError

router = APIRouter(tags=["approvals"], dependencies=[Depends(require_api_token)])


class DecisionBody(BaseModel):
    """HumanInTheLoopMiddleware-style resume: one decision per action request, in order."""

    model_config = ConfigDict(extra="forbid")

    decisions: list[Decision] = Field(min_length=1)
    # An Asana user (email or gid) on the approver list (SPRINTPILOT_APPROVERS).
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


# `?user=` (an Asana email or gid): only what that person can see in Asana is listed or shown.
_VIEWER = Query(default=None, min_length=1, max_length=120, pattern=r"^[^\s\x00-\x1f:]+$")


def _viewer(rt: Any, user: str | None) -> Person | None:
    if user is None:
        return None
    try:
        return rt.person(user)  # type: ignore[no-any-return]
    except UserError as err:
        raise ApiError(403, str(err)) from None


@router.get("/approvals")
def list_approvals(request: Request, user: str | None = _VIEWER) -> dict[str, Any]:
    state = api_state(request)
    with state.runtime_factory() as rt:
        person = _viewer(rt, user)
        viewer = rt.viewer(person) if person is not None else None
        items = [i for i in pending(rt) if viewer is None or visible_to(rt, viewer, i.proposal)]
    return {"approvals": [{"proposal": _summary(i.proposal), "request": i.request} for i in items]}


@router.get("/approvals/{proposal_id}")
def show_approval(proposal_id: str, request: Request, user: str | None = _VIEWER) -> dict[str, Any]:
    state = api_state(request)
    with state.runtime_factory() as rt:
        person = _viewer(rt, user)
        record = _find(rt, proposal_id)
        if person is not None and not visible_to(rt, person, record):
            raise ApiError(404, f"no proposal {proposal_id!r}; see `sprintpilot approvals list`")
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
        except NotAnApprover as err:
            raise ApiError(403, str(err)) from None
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
