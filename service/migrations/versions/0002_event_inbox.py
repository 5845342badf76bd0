"""Event pipeline: webhook subscriptions and handshakes, the event inbox and the outbox.

Revision ID: 0002
Revises: 0001_initial
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INBOX_STATUSES = ("new", "done", "skipped", "quarantined", "failed")
SOURCES = ("webhook", "events_api")


def _json_doc() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _ts(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _in(values: Sequence[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def upgrade() -> None:
    op.create_table(
        "webhook_subscriptions",
        sa.Column("webhook_gid", sa.String(64), nullable=False),
        sa.Column("resource_gid", sa.String(64), nullable=False),
        sa.Column("resource_type", sa.String(32), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("nonce", sa.String(64), nullable=True),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("workspace_gid", sa.String(64), nullable=True),
        _ts("created_at"),
        sa.Column("active", sa.Boolean(), nullable=False),
        _ts("last_delivery_at", nullable=True),
        _ts("last_heartbeat_at", nullable=True),
        sa.PrimaryKeyConstraint("webhook_gid", name="pk_webhook_subscriptions"),
        sa.UniqueConstraint("nonce", name="uq_webhook_subscriptions_nonce"),
    )
    op.create_index("ix_webhook_subscriptions_resource_gid", "webhook_subscriptions", ["resource_gid"])

    op.create_table(
        "webhook_handshakes",
        sa.Column("nonce", sa.String(64), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("resource_gid", sa.String(64), nullable=False),
        sa.Column("secret", sa.Text(), nullable=True),
        _ts("created_at"),
        _ts("handshake_at", nullable=True),
        sa.Column("webhook_gid", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("nonce", name="pk_webhook_handshakes"),
    )

    op.create_table(
        "inbox_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("dedup_key", sa.String(64), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("webhook_gid", sa.String(64), nullable=True),
        sa.Column("resource_gid", sa.String(64), nullable=True),
        sa.Column("resource_type", sa.String(32), nullable=True),
        sa.Column("action", sa.String(32), nullable=True),
        sa.Column("payload", _json_doc(), nullable=False),
        _ts("received_at"),
        _ts("processed_at", nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_inbox_events"),
        sa.UniqueConstraint("dedup_key", name="uq_inbox_events_dedup_key"),
        sa.CheckConstraint(f"status IN ({_in(INBOX_STATUSES)})", name="ck_inbox_events_status"),
        sa.CheckConstraint(f"source IN ({_in(SOURCES)})", name="ck_inbox_events_source"),
    )
    op.create_index("ix_inbox_events_resource_gid", "inbox_events", ["resource_gid"])
    op.create_index("ix_inbox_events_status_id", "inbox_events", ["status", "id"])

    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("inbox_id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(64), nullable=False),
        sa.Column("payload", _json_doc(), nullable=False),
        _ts("created_at"),
        _ts("published_at", nullable=True),
        sa.Column("publish_attempts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
        sa.ForeignKeyConstraint(
            ["inbox_id"], ["inbox_events.id"], name="fk_outbox_inbox_id_inbox_events", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_outbox_inbox_id", "outbox", ["inbox_id"])
    op.create_index("ix_outbox_unpublished", "outbox", ["published_at", "id"])


def downgrade() -> None:
    for table in ("outbox", "inbox_events", "webhook_handshakes", "webhook_subscriptions"):
        op.drop_table(table)
