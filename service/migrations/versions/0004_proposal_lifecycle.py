"""Proposal lifecycle: `expired` (nobody decided before the approval was due) and `superseded`
(a newer proposal for the same scope replaced it) join the allowed statuses.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEFORE = (
    "pending", "approved", "partially_approved", "applying", "rejected", "applied",
    "partially_applied", "conflict", "failed", "denied", "empty", "error",
)  # fmt: skip
AFTER = (*BEFORE, "expired", "superseded")


def _in(values: Sequence[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def _set_statuses(values: Sequence[str]) -> None:
    # Batch mode: SQLite cannot alter a CHECK constraint in place, so the table is recreated.
    with op.batch_alter_table("proposals", recreate="auto") as batch:
        batch.drop_constraint("ck_proposals_status", type_="check")
        batch.create_check_constraint("ck_proposals_status", f"status IN ({_in(values)})")


def upgrade() -> None:
    _set_statuses(AFTER)


def downgrade() -> None:
    op.execute(f"UPDATE proposals SET status = 'rejected' WHERE status IN ({_in(AFTER[len(BEFORE) :])})")
    _set_statuses(BEFORE)
