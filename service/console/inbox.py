"""`GET /` and `GET /inbox`: the proposals waiting for approval that the signed-in person can see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response

from graphs.visibility import Person
from service.approvals import visible_to
from service.console.names import PageNames
from service.console.render import render
from service.console.session import console_runtime, current_person

if TYPE_CHECKING:
    from service.db.proposals import ProposalRecord
    from service.runtime import Runtime

router = APIRouter(tags=["console"], include_in_schema=False)


@dataclass(frozen=True)
class InboxRow:
    id: str
    agent: str
    title: str
    projects: list[str]
    age: str
    due: datetime
    overdue: bool


def aware(moment: datetime) -> datetime:
    """Stored times are UTC; SQLite hands them back naive."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def age_text(delta: timedelta) -> str:
    minutes = max(0, int(delta.total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h"
    return f"{minutes // (24 * 60)} d"


PAGE_SIZE = 50


def due_time(rt: Runtime, record: ProposalRecord) -> datetime:
    """When the expiry sweep closes the proposal: created + approval_due_hours (the approval
    task's due time is set from the same rule, so no Asana read per row is needed)."""
    return aware(record.created_at) + timedelta(hours=rt.settings.approval_due_hours)


@dataclass
class InboxPage:
    rows: list[InboxRow]
    page: int
    pages: int
    total: int


def inbox_page(rt: Runtime, person: Person, now: datetime, page: int = 1) -> InboxPage:
    """One page of the person's pending proposals, newest first. Read from the proposals table
    only: a thread's checkpoint is read when its proposal is opened, not for every row (500
    pending proposals would be 500 checkpoint reads per view)."""
    viewer = rt.viewer(person)
    records = [r for r in rt.repo.pending_approvals() if visible_to(rt, viewer, r)]
    records.sort(key=lambda r: aware(r.created_at), reverse=True)
    pages = max(1, -(-len(records) // PAGE_SIZE))
    page = min(max(1, page), pages)
    names = PageNames(rt)  # each project's name read once per page
    rows = []
    for record in records[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]:
        due = due_time(rt, record)
        rows.append(
            InboxRow(
                id=record.id,
                agent=record.agent,
                title=record.title,
                projects=names.project_names(record.proposal.scope.project_gids),
                age=age_text(now - aware(record.created_at)),
                due=due,
                overdue=due < now,
            )
        )
    return InboxPage(rows, page, pages, len(records))


@router.get("/")
def home() -> Response:
    return RedirectResponse("/inbox", status_code=303)


@router.get("/inbox")
def inbox(
    request: Request, person: Person = Depends(current_person), page: int = Query(default=1, ge=1, le=100_000)
) -> Response:
    with console_runtime(request)() as rt:
        found = inbox_page(rt, person, datetime.now(UTC), page)
    return render(request, "inbox.html", rows=found.rows, listing=found, active="inbox")
