"""Ledger facts: what each write stated (repeat detection across runs) and the project of its
proposal (the per-project daily write budget).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("action_ledger") as batch:
        batch.add_column(sa.Column("fact_key", sa.String(64), nullable=True))
        batch.add_column(sa.Column("budget_project", sa.String(64), nullable=True))
    op.create_index("ix_action_ledger_fact_key", "action_ledger", ["fact_key"])
    op.create_index(
        "ix_action_ledger_budget_project_updated_at", "action_ledger", ["budget_project", "updated_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_action_ledger_budget_project_updated_at", "action_ledger")
    op.drop_index("ix_action_ledger_fact_key", "action_ledger")
    with op.batch_alter_table("action_ledger") as batch:
        batch.drop_column("budget_project")
        batch.drop_column("fact_key")
