"""The outbox relay: publish stored events to the broker, in order, each at least once.

The receiver never talks to the broker; it commits inbox + outbox rows and answers Asana. This
relay (run by beat every few seconds, and kicked by the API after a delivery) publishes unpublished
rows in id order and marks them. Concurrent relays are safe: on Postgres each takes its batch with
`FOR UPDATE SKIP LOCKED`, so a row is published by one relay at a time. A crash between publish
and commit republishes a row, which `process_event` tolerates (a done inbox row is skipped).
While the broker is down, publishing fails, the row keeps `published_at` NULL with its attempts
counted, and the next relay after recovery drains the backlog.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, select

from service.db.engine import write_session
from service.db.events import OutboxMessage

log = logging.getLogger("sprintpilot.relay")

Publish = Callable[[OutboxMessage], None]


@dataclass
class RelayResult:
    published: int = 0
    failed: int = 0
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"published": self.published, "failed": self.failed, "error": self.error}


def relay_batch(engine: Engine, publish: Publish, *, batch: int = 100) -> RelayResult:
    """Publish up to `batch` unpublished outbox rows in id order; stop at the first failure."""
    result = RelayResult()
    with write_session(engine) as session:
        rows = session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.published_at.is_(None))
            .order_by(OutboxMessage.id)
            .limit(batch)
            .with_for_update(skip_locked=True)
        ).all()
        for row in rows:
            try:
                publish(row)
            except Exception as err:  # noqa: BLE001 - any broker failure: keep the row for later
                row.publish_attempts = (row.publish_attempts or 0) + 1
                result.failed += 1
                result.error = f"{type(err).__name__}: {err}"[:500]
                log.warning("outbox %s not published (%s); will retry", row.id, result.error)
                break  # keep order: later rows wait for this one
            row.published_at = datetime.now(UTC)
            row.publish_attempts = (row.publish_attempts or 0) + 1
            result.published += 1
    return result


def relay_all(engine: Engine, publish: Publish, *, batch: int = 100, max_batches: int = 50) -> RelayResult:
    """Drain the outbox batch by batch (bounded, so one relay run never holds on forever)."""
    total = RelayResult()
    for _ in range(max_batches):
        step = relay_batch(engine, publish, batch=batch)
        total.published += step.published
        total.failed += step.failed
        total.error = step.error or total.error
        if step.failed or step.published < batch:
            break
    return total
