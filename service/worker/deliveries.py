"""Delivery counting and quarantine for poison messages.

Celery requeues a message whose worker died (`task_reject_on_worker_lost`) with no cap, so a
message that kills its worker would loop forever. Each delivery is counted at task *start*, in its
own committed transaction (so a SIGKILL later in the run cannot undo the count); once a message
has been delivered more than `max_deliveries` times it is quarantined: the inbox row is marked,
an audit row and the worker's `messages_quarantined` counter record it, and the message is acked
without running. The API's `/metrics` also shows `inbox_events{status="quarantined"}` (read from
the database, so it is the same whichever process quarantined the message).
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, update

from graphs.ports import AuditRecord
from service.db.audit import append_audit
from service.db.engine import dialect_insert, read_session, write_session
from service.db.events import InboxEvent, InboxStatus
from service.db.worker import MessageDelivery
from service.metrics import Metrics


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class Delivery:
    key: str
    attempts: int


def begin_delivery(
    engine: Engine, key: str, task_name: str, *, task_id: str | None = None, inbox_id: int | None = None
) -> Delivery:
    """Count one more delivery of `key` (committed now) and return the new count."""
    now = datetime.now(UTC)
    with write_session(engine) as session:
        insert = dialect_insert(session)
        stmt = insert(MessageDelivery).values(
            message_key=key,
            task_name=task_name,
            attempts=1,
            first_seen_at=now,
            last_seen_at=now,
            last_worker=worker_id(),
            last_task_id=task_id,
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[MessageDelivery.message_key],
            set_={
                "attempts": MessageDelivery.attempts + 1,
                "last_seen_at": now,
                "last_worker": worker_id(),
                "last_task_id": task_id,
            },
        ).returning(MessageDelivery.attempts)
        attempts = int(session.execute(stmt).scalar_one())
        if inbox_id is not None:
            session.execute(update(InboxEvent).where(InboxEvent.id == inbox_id).values(attempts=attempts))
    return Delivery(key, attempts)


def end_delivery(engine: Engine, key: str, *, error: str | None = None) -> None:
    """Record how a delivery ended: `error` for a failure, else finished."""
    with write_session(engine) as session:
        row = session.get(MessageDelivery, key)
        if row is None:
            return
        if error is None:
            row.finished_at = datetime.now(UTC)
        else:
            row.last_error = error[:2000]


def quarantine(
    engine: Engine, delivery: Delivery, *, inbox_id: int | None, reason: str, metrics: Metrics | None = None
) -> None:
    """Take a poison message out of circulation: DB marks + audit row in one transaction, metric."""
    now = datetime.now(UTC)
    with write_session(engine) as session:
        row = session.get(MessageDelivery, delivery.key)
        if row is not None:
            row.quarantined_at = row.quarantined_at or now
            row.last_error = row.last_error or reason
        if inbox_id is not None:
            session.execute(
                update(InboxEvent)
                .where(InboxEvent.id == inbox_id)
                .values(status=InboxStatus.QUARANTINED.value, last_error=reason[:2000], processed_at=now)
            )
        append_audit(
            session,
            AuditRecord(
                actor="system:worker",
                event="message.quarantined",
                outcome="failed",
                reason=reason[:500],
                details={"message_key": delivery.key, "deliveries": delivery.attempts, "inbox_id": inbox_id},
            ),
        )
    if metrics is not None:
        metrics.messages_quarantined.inc()


def delivery(engine: Engine, key: str) -> MessageDelivery | None:
    with read_session(engine) as session:
        return session.get(MessageDelivery, key)
