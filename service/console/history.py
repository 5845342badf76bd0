"""`GET /history` (runs and each proposal's lifecycle), `GET /audit` and `POST /audit/verify`.

Everything is read from the app database (runs, proposals, decisions, the apply ledger, the
audit log), limited to what the signed-in person may see: a proposal on a project they cannot
see in Asana is left out, and so are its audit rows (`service.approvals.visible_to`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy import func, or_, select

from graphs.visibility import Person
from service.approvals import visible_to
from service.console.render import compact, render
from service.console.session import console_runtime, current_person, require_csrf
from service.db.audit import AuditEntry, audit_key_of
from service.db.audit_verify import verify_chain
from service.db.engine import read_session
from service.db.models import AuditRow
from service.db.proposals import ProposalDetail, ProposalRecord
from tools.llm.labels import written_by

if TYPE_CHECKING:
    from service.runtime import Runtime

router = APIRouter(tags=["console"], include_in_schema=False)

RUNS_SHOWN = 200
PAGE_SIZE = 50
# How each closing status reads in the lifecycle column.
CLOSED = {
    "applied": "applied",
    "partially_applied": "partially applied",
    "failed": "failed",
    "conflict": "conflict",
    "denied": "denied",
    "error": "error",
    "empty": "nothing to apply",
    "expired": "expired",
    "superseded": "superseded",
    "rejected": "rejected",
}


def when(moment: datetime | None) -> str:
    if moment is None:
        return ""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


@dataclass(frozen=True)
class Write:
    kind: str
    target: str
    status: str


@dataclass(frozen=True)
class HistoryRow:
    started: str
    agent: str
    trigger: str
    run_status: str
    thread_id: str
    proposal_id: str = ""
    title: str = ""
    engine: str = ""
    lifecycle: list[str] = field(default_factory=list)
    writes: list[Write] = field(default_factory=list)


def lifecycle(detail: ProposalDetail) -> list[str]:
    """created → decided by whom → applied/failed/expired/superseded, each with its time."""
    steps = [f"created {when(detail.created_at)}"]
    by_person: dict[str, list[str]] = {}
    for d in detail.decisions:
        by_person.setdefault(d.decided_by, []).append(d.type)
    for who, kinds in by_person.items():
        first = min(d.created_at for d in detail.decisions if d.decided_by == who)
        summary = ", ".join(f"{kinds.count(k)} {k}" for k in dict.fromkeys(kinds))
        steps.append(f"decided by {who} ({summary}) {when(first)}")
    if not detail.decisions and detail.decided_at is not None:
        steps.append(f"decided {when(detail.decided_at)}")
    status = detail.status.value
    if status in CLOSED:
        steps.append(f"{CLOSED[status]} {when(detail.updated_at)}")
    else:
        steps.append(status.replace("_", " "))
    return steps


def _proposals_by_thread(rt: Runtime, person: Person) -> tuple[dict[str, list[ProposalDetail]], set[str]]:
    """Visible proposals per thread, and the threads that had only invisible ones."""
    shown: dict[str, list[ProposalDetail]] = {}
    hidden: set[str] = set()
    viewer = rt.viewer(person)
    for record in rt.repo.list_proposals(limit=RUNS_SHOWN):
        if not visible_to(rt, viewer, record):
            hidden.add(record.thread_id)
            continue
        detail = rt.repo.get_proposal(record.id)
        if detail is not None:
            shown.setdefault(record.thread_id, []).append(detail)
    return shown, hidden - set(shown)


def history_rows(rt: Runtime, person: Person, agent: str | None, status: str | None) -> list[HistoryRow]:
    proposals, hidden = _proposals_by_thread(rt, person)
    rows: list[HistoryRow] = []
    for run in rt.repo.list_runs(limit=RUNS_SHOWN):
        if run.thread_id in hidden or (agent and run.agent != agent):
            continue
        details = proposals.get(run.thread_id, [])
        if status and run.status != status and all(d.status.value != status for d in details):
            continue
        base = HistoryRow(
            started=when(run.created_at),
            agent=run.agent,
            trigger=run.trigger,
            run_status=run.status,
            thread_id=run.thread_id,
        )
        if not details:
            rows.append(base)
        for d in details:
            rows.append(
                replace(
                    base,
                    proposal_id=d.id,
                    title=d.title,
                    engine=written_by(d.model),
                    lifecycle=lifecycle(d),
                    writes=[Write(e.kind, e.target or "", e.status.value) for e in d.ledger],
                )
            )
    return rows


@router.get("/history")
def history_page(
    request: Request,
    person: Person = Depends(current_person),
    agent: str | None = Query(default=None, max_length=200),
    status: str | None = Query(default=None, max_length=200),
) -> Response:
    with console_runtime(request)() as rt:
        rows = history_rows(rt, person, agent or None, status or None)
        agents = sorted(rt.registry.names())
    return render(request, "history.html", rows=rows, agent=agent or "", status=status or "", agents=agents)


# --- audit -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditPage:
    rows: list[AuditEntry]
    page: int
    pages: int
    total: int


def hidden_proposals(rt: Runtime, person: Person) -> list[str]:
    """Ids of proposals on projects `person` cannot see: their audit rows are not shown."""
    records: list[ProposalRecord] = rt.repo.list_proposals(limit=100_000)
    viewer = rt.viewer(person)
    return [r.id for r in records if not visible_to(rt, viewer, r)]


def audit_page_rows(
    rt: Runtime,
    person: Person,
    *,
    event: str | None,
    actor: str | None,
    proposal: str | None,
    page: int,
) -> AuditPage:
    stmt = select(AuditRow)
    hidden = hidden_proposals(rt, person)
    if hidden:
        stmt = stmt.where(or_(AuditRow.proposal_id.is_(None), AuditRow.proposal_id.not_in(hidden)))
    if event:
        stmt = stmt.where(AuditRow.event == event)
    if actor:
        stmt = stmt.where(AuditRow.actor.contains(actor, autoescape=True))
    if proposal:
        # A prefix, as `approvals show` takes one.
        stmt = stmt.where(AuditRow.proposal_id.startswith(proposal, autoescape=True))
    with read_session(rt.engine) as session:
        total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
        pages = max(1, -(-total // PAGE_SIZE))
        page = min(max(1, page), pages)
        found = session.scalars(
            stmt.order_by(AuditRow.id.desc()).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)
        )
        rows = [AuditEntry.of(r) for r in found]
    return AuditPage(rows=rows, page=page, pages=pages, total=total)


def _audit_context(request: Request, person: Person, query: dict[str, Any], page: int) -> dict[str, Any]:
    with console_runtime(request)() as rt:
        result = audit_page_rows(rt, person, page=page, **query)
    return {"audit": result, "filters": {k: v or "" for k, v in query.items()}, "when": when}


@router.get("/audit")
def audit_view(
    request: Request,
    person: Person = Depends(current_person),
    event: str | None = Query(default=None, max_length=200),
    actor: str | None = Query(default=None, max_length=200),
    proposal: str | None = Query(default=None, max_length=200),
    page: int = Query(default=1, ge=1, le=1_000_000),
) -> Response:
    query = {"event": event or None, "actor": actor or None, "proposal": proposal or None}
    return render(request, "audit.html", **_audit_context(request, person, query, page))


@router.post("/audit/verify", dependencies=[Depends(require_csrf)])
def audit_verify(request: Request, person: Person = Depends(current_person)) -> Response:
    """The chain check `sprintpilot audit verify` runs, against the signed head."""
    with console_runtime(request)() as rt:
        result = verify_chain(rt.engine, key=audit_key_of(rt.engine))
    if result.ok:
        verdict = f"OK ({result.rows_checked} rows)"
    else:
        verdict = f"TAMPERED at row {result.first_bad_id}: {compact(result.reason)}"
    query = {"event": None, "actor": None, "proposal": None}
    context = _audit_context(request, person, query, 1)
    return render(
        request,
        "audit.html",
        status_code=200 if result.ok else 409,
        verify=verdict,
        verify_ok=result.ok,
        **context,
    )
