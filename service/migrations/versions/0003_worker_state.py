"""Worker state: message delivery counters, events-API sync tokens, watched projects.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "message_deliveries",
        sa.Column("message_key", sa.String(200), nullable=False),
        sa.Column("task_name", sa.String(120), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _ts("first_seen_at"),
        _ts("last_seen_at"),
        sa.Column("last_worker", sa.String(200), nullable=True),
        sa.Column("last_task_id", sa.String(200), nullable=True),
        _ts("quarantined_at", nullable=True),
        _ts("finished_at", nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("message_key", name="pk_message_deliveries"),
    )
    op.create_table(
        "event_sync_tokens",
        sa.Column("resource_gid", sa.String(64), nullable=False),
        sa.Column("sync_token", sa.String(400), nullable=False),
        _ts("updated_at"),
        _ts("resynced_at", nullable=True),
        sa.PrimaryKeyConstraint("resource_gid", name="pk_event_sync_tokens"),
    )
    op.create_table(
        "watched_projects",
        sa.Column("project_gid", sa.String(64), nullable=False),
        sa.Column("workspace_gid", sa.String(64), nullable=True),
        _ts("added_at"),
        sa.PrimaryKeyConstraint("project_gid", name="pk_watched_projects"),
    )


def downgrade() -> None:
    op.drop_table("watched_projects")
    op.drop_table("event_sync_tokens")
    op.drop_table("message_deliveries")
