"""Tables of the event pipeline: webhook subscriptions, the inbox of received events and the outbox.

The inbox is keyed by a content hash of each event (`dedup_key`), so a webhook redelivery and the
same event seen again through the events API are one row. The outbox row written in the same
transaction is what the relay publishes to Celery; the receiver itself never talks to the broker.
Registered on the shared `Base` so alembic and `compare_metadata` see these tables.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from service.db.models import Base, JsonDoc, UTCDateTime, utcnow


class InboxStatus(StrEnum):
    NEW = "new"
    DONE = "done"
    SKIPPED = "skipped"
    QUARANTINED = "quarantined"
    FAILED = "failed"


class EventSource(StrEnum):
    WEBHOOK = "webhook"
    EVENTS_API = "events_api"


def _in(values: Any) -> str:
    return ", ".join(f"'{v.value}'" for v in values)


class WebhookSubscription(Base):
    """One Asana webhook we registered, with the secret its handshake gave us."""

    __tablename__ = "webhook_subscriptions"

    webhook_gid: Mapped[str] = mapped_column(String(64), primary_key=True)
    resource_gid: Mapped[str] = mapped_column(String(64), index=True)
    resource_type: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(Text)
    # The path segment of `target`; deliveries are routed to their secret by it.
    nonce: Mapped[str | None] = mapped_column(String(64), unique=True)
    # Stored as Asana sent it; a deployment should encrypt this column at rest.
    secret: Mapped[str] = mapped_column(Text)
    workspace_gid: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_delivery_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WebhookHandshake(Base):
    """A registration in flight: created before `POST /webhooks`, filled in by the handshake.

    Asana's handshake carries the secret but not the webhook gid (known only when create returns),
    so the receiver files the secret under the nonce of the target URL and `register` binds it.
    """

    __tablename__ = "webhook_handshakes"

    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    target: Mapped[str] = mapped_column(Text)
    resource_gid: Mapped[str] = mapped_column(String(64))
    secret: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    handshake_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    webhook_gid: Mapped[str | None] = mapped_column(String(64))


class InboxEvent(Base):
    __tablename__ = "inbox_events"
    __table_args__ = (
        CheckConstraint(f"status IN ({_in(InboxStatus)})", name="status"),
        CheckConstraint(f"source IN ({_in(EventSource)})", name="source"),
        Index(None, "status", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dedup_key: Mapped[str] = mapped_column(String(64), unique=True)
    source: Mapped[str] = mapped_column(String(16))
    webhook_gid: Mapped[str | None] = mapped_column(String(64))
    resource_gid: Mapped[str | None] = mapped_column(String(64), index=True)
    resource_type: Mapped[str | None] = mapped_column(String(32))
    action: Mapped[str | None] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JsonDoc)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default=InboxStatus.NEW.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)


class OutboxMessage(Base):
    __tablename__ = "outbox"
    __table_args__ = (
        # The relay's scan: unpublished rows in order.
        Index("ix_outbox_unpublished", "published_at", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    inbox_id: Mapped[int] = mapped_column(ForeignKey("inbox_events.id", ondelete="CASCADE"), index=True)
    topic: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JsonDoc)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    publish_attempts: Mapped[int] = mapped_column(Integer, default=0)
