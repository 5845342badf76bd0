"""Worker-side state: per-message delivery counters (poison quarantine), events-API sync tokens,
and the projects the reconciliation poller watches.

A delivery row is keyed by the logical message ("process_event:<inbox id>"), not by Celery's task
id, so a re-published or redelivered copy of the same work counts against the same budget.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from service.db.models import Base, UTCDateTime, utcnow


class MessageDelivery(Base):
    __tablename__ = "message_deliveries"

    message_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    task_name: Mapped[str] = mapped_column(String(120))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # "<hostname>:<pid>" of the process that took the latest delivery (which child to blame/kill).
    last_worker: Mapped[str | None] = mapped_column(String(200))
    last_task_id: Mapped[str | None] = mapped_column(String(200))
    quarantined_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)


class EventSyncToken(Base):
    __tablename__ = "event_sync_tokens"

    resource_gid: Mapped[str] = mapped_column(String(64), primary_key=True)
    sync_token: Mapped[str] = mapped_column(String(400))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # Set when Asana answered 412 for a token we had: events since then may have been missed.
    resynced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WatchedProject(Base):
    __tablename__ = "watched_projects"

    project_gid: Mapped[str] = mapped_column(String(64), primary_key=True)
    workspace_gid: Mapped[str | None] = mapped_column(String(64))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
