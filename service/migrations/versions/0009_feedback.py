"""Feedback: people telling sprintpilot it was wrong (service/db/feedback.py documents the columns).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = ("thumbs_down_comment", "wrong_comment", "field_corrected", "action_rejected")


def upgrade() -> None:
    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("source_key", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("verdict", sa.String(32), nullable=False),
        sa.Column("agent", sa.String(64), nullable=True),
        sa.Column("proposal_id", sa.String(64), nullable=True),
        sa.Column("action_index", sa.Integer(), nullable=True),
        sa.Column("action_kind", sa.String(64), nullable=True),
        sa.Column("task_gid", sa.String(64), nullable=True),
        sa.Column("project_gid", sa.String(64), nullable=True),
        sa.Column("field", sa.String(200), nullable=True),
        sa.Column("predicted", sa.JSON(), nullable=True),
        sa.Column("corrected", sa.JSON(), nullable=True),
        sa.Column("user_gid", sa.String(64), nullable=True),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_feedback"),
        sa.UniqueConstraint("source_key", name="uq_feedback_source_key"),
        sa.CheckConstraint(
            "kind IN ({})".format(", ".join(f"'{k}'" for k in KINDS)), name="ck_feedback_kind"
        ),
    )
    op.create_index("ix_feedback_kind_created_at", "feedback", ["kind", "created_at"])
    op.create_index("ix_feedback_proposal_id", "feedback", ["proposal_id"])
    op.create_index("ix_feedback_task_gid", "feedback", ["task_gid"])
    op.create_index("ix_feedback_created_at", "feedback", ["created_at"])


def downgrade() -> None:
    for name in (
        "ix_feedback_created_at",
        "ix_feedback_task_gid",
        "ix_feedback_proposal_id",
        "ix_feedback_kind_created_at",
    ):
        op.drop_index(name, "feedback")
    op.drop_table("feedback")
