"""`GET /proposals/{id}` and `POST /proposals/{id}/decide`: one proposal, and deciding it.

The form only gathers choices; `service.approvals.build_decisions` turns them into decisions
and `service.approvals.decide` (the single decision path of every surface) checks the approver,
their visibility, the digest and the thread lock, then resumes the graph. An invisible proposal
answers exactly like a missing one (404).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from agents.proposal import Action, ApprovalClass, Decision
from graphs.gate import action_numbers, action_requests_of
from graphs.runner import NothingPending, RunOutcome, ThreadBusy, pending_interrupt
from graphs.visibility import Person
from service.approvals import (
    ApplyInterrupted,
    ApprovalError,
    NotAnApprover,
    build_decisions,
    decide,
    decided_text,
    find_proposal,
    graph_for,
    visible_to,
)
from service.console.evidence import evidence_tables
from service.console.markdown import to_html
from service.console.names import PageNames
from service.console.render import ConsoleError, compact, render
from service.console.session import console_runtime, current_person, require_csrf
from service.db.proposals import ProposalRecord
from service.events.locks import ThreadLocked

if TYPE_CHECKING:
    from service.runtime import Runtime

router = APIRouter(tags=["console"], include_in_schema=False)
# Params holding an Asana user's gid: shown with the person's name (from the Directory).
PEOPLE_PARAMS = frozenset({"assignee", "owner", "owner_gid", "approver", "approver_gid"})


@dataclass
class ActionView:
    n: int
    kind: str
    target: str | None
    target_name: str | None
    before: str
    after: str
    policy: str
    reason: str
    decidable: bool
    params: dict[str, str] = field(default_factory=dict)
    people: dict[str, str] = field(default_factory=dict)  # param → the named person


def _visible_record(rt: Runtime, person: Person, ref: str) -> ProposalRecord:
    """The proposal, or the same 404 whether it is missing or not the person's to see."""
    try:
        record = find_proposal(rt, ref)
    except ApprovalError:
        record = None
    if record is None or not visible_to(rt, person, record):
        raise ConsoleError(404, f"No proposal {ref[:40]!r}.")
    return record


def _pending(rt: Runtime, record: ProposalRecord) -> dict[str, Any] | None:
    request = pending_interrupt(graph_for(rt, record.thread_id), record.thread_id)
    return request if request is not None and request.get("proposal_id") == record.id else None


def param_text(value: Any) -> str:
    """How a param is shown in its edit box: strings as they are, anything else as JSON."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _target_name(target: str | None, names: PageNames) -> str | None:
    if not target:
        return None
    if target.startswith("ref:"):
        return f"created by this proposal ({target[4:]})"
    return names.name(target)


def _people(params: dict[str, Any], names: PageNames) -> dict[str, str]:
    found = {}
    for key, value in params.items():
        if key in PEOPLE_PARAMS and isinstance(value, str) and value.isdigit():
            name = names.person(value)
            if name:
                found[key] = name
    return found


def _policy(action: Action, decidable: bool) -> str:
    if decidable:
        return ApprovalClass.NEEDS_APPROVAL.value
    return (action.approval_class or ApprovalClass.AUTO).value


def action_views(
    rt: Runtime, record: ProposalRecord, request: dict[str, Any] | None, names: PageNames | None = None
) -> list[ActionView]:
    """Every action of the proposal; the ones waiting (per the gate's request) are decidable and
    carry the args the reviewer may edit, the others (auto, or already decided) are listed only."""
    waiting: dict[int, dict[str, Any]] = {}
    if request is not None:
        waiting = dict(zip(action_numbers(request), action_requests_of(request), strict=True))
    names = names or PageNames(rt, record.proposal.scope.workspace_gid)
    rows = []
    for n, action in enumerate(record.proposal.actions, start=1):
        req = waiting.get(n)
        args = (req or {}).get("args") or {"target": action.target, "params": action.params}
        rows.append((n, action, req, dict(args.get("params") or {}), args.get("target")))
    # Every target's name in as few reads as possible, before any is shown.
    names.prefetch_tasks((t for *_, t in rows if t), record.proposal.scope.project_gids)
    views = []
    for n, action, req, params, target in rows:
        views.append(
            ActionView(
                n=n,
                kind=action.kind.value,
                target=target,
                target_name=_target_name(target, names),
                before=compact(action.before) or "—",
                after=compact(action.after if action.after is not None else params) or "—",
                policy=_policy(action, req is not None),
                reason=action.reason or action.policy_note or "",
                decidable=req is not None,
                params={k: param_text(v) for k, v in params.items()},
                people=_people(params, names),
            )
        )
    return views


def decisions_from_form(request: dict[str, Any], form: FormData) -> list[Decision]:
    """The form's choices as `build_decisions` inputs: "Approve all", or per action approve /
    reject (with the reason) / edit (the params whose text changed, merged over the proposed)."""
    if form.get("all") == "approve":
        return build_decisions(request)
    reject: dict[int, str] = {}
    edits: dict[int, str] = {}
    for n, req in zip(action_numbers(request), action_requests_of(request), strict=True):
        choice = str(form.get(f"decision-{n}") or "approve")
        if choice == "reject":
            reject[n] = str(form.get(f"reason-{n}") or "").strip()
        elif choice == "edit":
            edits[n] = json.dumps({"params": _changed_params(req, form, n)})
        elif choice != "approve":
            raise ApprovalError(f"action {n}: choose approve, edit or reject")
    return build_decisions(request, reject=reject, edits=edits)


def _changed_params(req: dict[str, Any], form: FormData, n: int) -> dict[str, Any]:
    old = dict((req.get("args") or {}).get("params") or {})
    changed: dict[str, Any] = {}
    for name, value in old.items():
        given = form.get(f"param-{n}-{name}")
        if not isinstance(given, str) or given == param_text(value):
            continue
        if isinstance(value, str):
            changed[name] = given
            continue
        try:
            changed[name] = json.loads(given)  # a number, list or object keeps its type
        except json.JSONDecodeError:
            raise ApprovalError(f"action {n}: {name} must be JSON like {param_text(value)[:60]}") from None
    return changed


def page(
    request: Request,
    rt: Runtime,
    record: ProposalRecord,
    *,
    outcome: RunOutcome | None = None,
    refused: str | None = None,
    status_code: int = 200,
) -> Response:
    fresh = rt.repo.get_proposal(record.id) or record
    waiting = _pending(rt, fresh)
    report = (outcome.report if outcome is not None else None) or {}
    names = PageNames(rt, fresh.proposal.scope.workspace_gid)  # one name cache per render
    projects = names.project_names(fresh.proposal.scope.project_gids)
    return render(
        request,
        "proposal.html",
        status_code=status_code,
        active="inbox",
        record=fresh,
        projects=projects,
        summary=to_html(fresh.proposal.summary_markdown),
        evidence=evidence_tables(fresh.proposal.evidence),
        actions=action_views(rt, fresh, waiting, names),
        waiting=waiting,
        decided=None if waiting else decided_text(rt, fresh),
        outcome=report.get("status") or (outcome.status if outcome else None),
        report=report,
        refused=refused,
    )


@router.get("/proposals/{proposal_id}")
def show(proposal_id: str, request: Request, person: Person = Depends(current_person)) -> Response:
    with console_runtime(request)() as rt:
        return page(request, rt, _visible_record(rt, person, proposal_id))


@router.post("/proposals/{proposal_id}/decide")
async def decide_form(
    proposal_id: str,
    request: Request,
    person: Person = Depends(current_person),  # first: signed out is 401, before the CSRF check
    _csrf: None = Depends(require_csrf),
) -> Response:
    form = await request.form()
    return await run_in_threadpool(_decide, request, person, proposal_id, form)


def _decide(request: Request, person: Person, proposal_id: str, form: FormData) -> Response:
    digest = form.get("digest")
    with console_runtime(request)() as rt:
        record = _visible_record(rt, person, proposal_id)
        if not isinstance(digest, str) or not digest:
            return page(
                request, rt, record, refused="The form lost its digest; reload the page.", status_code=400
            )
        waiting = _pending(rt, record)
        if waiting is None:
            return page(
                request,
                rt,
                record,
                refused=f"Not waiting for approval: {decided_text(rt, record)}.",
                status_code=409,
            )
        try:
            decisions = decisions_from_form(waiting, form)
        except ApprovalError as err:
            return page(request, rt, record, refused=str(err), status_code=422)
        try:
            outcome = decide(rt, record, decisions, f"console:{person.label}", digest)
        except NotAnApprover as err:
            return page(request, rt, record, refused=str(err), status_code=403)
        except (ApprovalError, NothingPending, ThreadBusy, ThreadLocked) as err:
            return page(request, rt, record, refused=str(err), status_code=409)
        except ApplyInterrupted as err:
            return page(request, rt, record, refused=str(err), status_code=503)
        if outcome.status == "awaiting_approval" and outcome.invalid_decision:
            # A digest mismatch means someone changed the proposal since the page was shown.
            conflict = "digest" in outcome.invalid_decision
            return page(
                request, rt, record, refused=outcome.invalid_decision, status_code=409 if conflict else 422
            )
        return page(request, rt, record, outcome=outcome)
