"""Processing one stored event: route it, run its handler, record the result on the inbox row.

Plain functions over a Runtime (no Celery here), so the task layer stays thin and this is easy to
call from tests and tools. Idempotent: a row already done, skipped or quarantined is left alone.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, update

from service.db.engine import read_session, write_session
from service.db.events import InboxEvent, InboxStatus
from service.events.index_feed import INBOX_FEED
from service.events.router import EventFacts, Route, match_route
from service.events.routes_qa import forget_section
from service.events.wiring import install_routes
from service.metrics import Metrics
from service.runtime import Runtime
from service.worker.handlers import HANDLERS, EventWork, HandlerResult, audit_skip
from tools.asana.snapshot import forget_lasting, read_snapshot

FINAL_STATUSES = frozenset({InboxStatus.DONE.value, InboxStatus.SKIPPED.value, InboxStatus.QUARANTINED.value})


def mark_inbox(engine: Engine, inbox_id: int, status: InboxStatus, detail: str | None = None) -> None:
    with write_session(engine) as session:
        session.execute(
            update(InboxEvent)
            .where(InboxEvent.id == inbox_id)
            .values(status=status.value, processed_at=datetime.now(UTC), last_error=detail)
        )


def out_of_scope(rt: Runtime, facts: EventFacts) -> bool:
    """An event about a project we are not allowed to act on (when projects are restricted)."""
    allowed = set(rt.settings.allowed_projects)
    return bool(allowed) and facts.parent_type == "project" and facts.parent_gid not in allowed


def process_inbox_event(
    rt: Runtime, inbox_id: int, *, lock_wait_s: float = 5.0, metrics: Metrics | None = None
) -> dict[str, Any]:
    """Route and run one inbox row; returns a small summary for the task result/logs."""
    install_routes()
    with read_session(rt.engine) as session:
        row = session.get(InboxEvent, inbox_id)
        if row is None:
            return {"inbox_id": inbox_id, "status": "missing"}
        if row.status in FINAL_STATUSES:
            return {"inbox_id": inbox_id, "status": row.status, "detail": "already processed"}
        payload, key = dict(row.payload or {}), row.dedup_key
    facts = EventFacts.from_payload(payload)
    if facts.resource_type == "section" and facts.resource_gid:
        forget_section(rt.asana.base_url, facts.resource_gid)  # renamed or deleted: read it again
    if facts.resource_type == "project":
        forget_lasting(rt.asana.base_url)  # a project changed: its kept record is read again
    # What every receiver stored since the last look, this event included: the kept task lists
    # learn of membership and link changes their modified_since reads cannot see.
    INBOX_FEED.catch_up(rt.engine, rt.asana.base_url)
    route = match_route(facts)
    if route is None:
        mark_inbox(rt.engine, inbox_id, InboxStatus.SKIPPED, "no route")
        return {"inbox_id": inbox_id, "status": "skipped", "detail": "no route"}
    with read_snapshot(lasting=True):  # one view per handling (tools/asana/snapshot.py)
        return _handle(rt, inbox_id, facts, route, key, lock_wait_s, metrics)


def _handle(
    rt: Runtime,
    inbox_id: int,
    facts: EventFacts,
    route: Route,
    key: str,
    lock_wait_s: float,
    metrics: Metrics | None,
) -> dict[str, Any]:
    if out_of_scope(rt, facts):
        audit_skip(rt, "event.out_of_scope", "event outside the allowed projects", inbox_id=inbox_id)
        mark_inbox(rt.engine, inbox_id, InboxStatus.SKIPPED, "out of scope")
        return {"inbox_id": inbox_id, "status": "skipped", "detail": "out of scope"}
    handler = HANDLERS.get(route.handler)
    if handler is None:
        raise LookupError(f"route {route.name!r} names unknown handler {route.handler!r}")
    work = EventWork(rt, facts, route, inbox_id, key, lock_wait_s)
    result: HandlerResult = handler(work)
    status = InboxStatus.DONE if result.status == "done" else InboxStatus.SKIPPED
    mark_inbox(rt.engine, inbox_id, status, None if status is InboxStatus.DONE else result.detail)
    if metrics is not None:
        metrics.runs.labels(agent=route.agent, outcome=result.outcome or result.status).inc()
    return {
        "inbox_id": inbox_id,
        "status": result.status,
        "route": route.name,
        "detail": result.detail,
        "thread_id": result.thread_id,
        "outcome": result.outcome,
    }
