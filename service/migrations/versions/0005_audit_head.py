"""Audit head: the chain's newest (row id, hash), MAC-signed with a key kept outside the database.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("row_id", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("mac", sa.String(64), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_head"),
    )
    # An existing log's head starts unsigned; the next append signs it.
    op.execute(
        "INSERT INTO audit_head (id, row_id, hash, mac, updated_at) "
        "SELECT 1, id, hash, NULL, CURRENT_TIMESTAMP FROM audit_log ORDER BY id DESC LIMIT 1"
    )


def downgrade() -> None:
    op.drop_table("audit_head")
