"""Initial schema: runs, proposals, decisions, action ledger, append-only audit log.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-20
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001_initial"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PROPOSAL_STATUSES = (
    "pending",
    "approved",
    "partially_approved",
    "applying",
    "rejected",
    "applied",
    "partially_applied",
    "conflict",
    "failed",
    "denied",
    "empty",
    "error",
)
LEDGER_STATUSES = ("pending", "done", "conflict", "rejected", "failed", "denied")


def _json_doc() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _ts(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _in(values: Sequence[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("thread_id", sa.String(128), nullable=False),
        sa.Column("agent", sa.String(64), nullable=False),
        sa.Column("trigger", sa.String(64), nullable=False),
        sa.Column("request", _json_doc(), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        _ts("created_at"),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("thread_id", name="pk_runs"),
    )
    op.create_index("ix_runs_status", "runs", ["status"])

    op.create_table(
        "proposals",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("thread_id", sa.String(128), nullable=False),
        sa.Column("agent", sa.String(64), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("body", _json_doc(), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("model", sa.String(128), nullable=False),
        sa.Column("approval_task_gid", sa.String(64), nullable=True),
        _ts("created_at"),
        _ts("updated_at"),
        _ts("decided_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_proposals"),
        sa.CheckConstraint(f"status IN ({_in(PROPOSAL_STATUSES)})", name="ck_proposals_status"),
    )
    op.create_index("ix_proposals_thread_id", "proposals", ["thread_id"])
    op.create_index("ix_proposals_status", "proposals", ["status"])
    op.create_index("ix_proposals_approval_task_gid", "proposals", ["approval_task_gid"])

    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("proposal_id", sa.String(64), nullable=False),
        sa.Column("action_index", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("edited_name", sa.String(64), nullable=True),
        sa.Column("edited_args", _json_doc(), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("decided_by", sa.String(200), nullable=False),
        _ts("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_decisions"),
        sa.ForeignKeyConstraint(
            ["proposal_id"], ["proposals.id"], name="fk_decisions_proposal_id_proposals", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("proposal_id", "action_index", name="uq_decisions_proposal_id_action_index"),
    )
    op.create_index("ix_decisions_proposal_id", "decisions", ["proposal_id"])

    op.create_table(
        "action_ledger",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("thread_id", sa.String(128), nullable=False),
        sa.Column("proposal_id", sa.String(64), nullable=False),
        sa.Column("action_index", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("target", sa.String(200), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("result", _json_doc(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _ts("created_at"),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("key", name="pk_action_ledger"),
        sa.CheckConstraint(f"status IN ({_in(LEDGER_STATUSES)})", name="ck_action_ledger_status"),
    )
    op.create_index("ix_action_ledger_thread_id", "action_ledger", ["thread_id"])
    op.create_index(
        "ix_action_ledger_proposal_id_action_index", "action_ledger", ["proposal_id", "action_index"]
    )

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        _ts("ts_utc"),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("event", sa.String(100), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("thread_id", sa.String(128), nullable=True),
        sa.Column("proposal_id", sa.String(64), nullable=True),
        sa.Column("action_index", sa.Integer(), nullable=True),
        sa.Column("idempotency_key", sa.String(64), nullable=True),
        sa.Column("target", sa.String(200), nullable=True),
        # Plain JSON (not JSONB): stored verbatim, so re-hashing on verify sees the same values.
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("model", sa.String(128), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
        sa.UniqueConstraint("hash", name="uq_audit_log_hash"),
    )
    op.create_index("ix_audit_log_ts_utc", "audit_log", ["ts_utc"])
    op.create_index("ix_audit_log_event", "audit_log", ["event"])
    op.create_index("ix_audit_log_thread_id", "audit_log", ["thread_id"])
    op.create_index("ix_audit_log_proposal_id", "audit_log", ["proposal_id"])

    _create_append_only_guard()


def _create_append_only_guard() -> None:
    """Reject UPDATE/DELETE (and TRUNCATE on Postgres) on audit_log at the database itself."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP
                    USING ERRCODE = 'insufficient_privilege';
            END
            $$
            """
        )
        op.execute(
            "CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"
        )
        op.execute(
            "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()"
        )
    else:
        op.execute(
            "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
            "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: UPDATE is not allowed'); END"
        )
        op.execute(
            "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
            "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: DELETE is not allowed'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update_delete ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
    for table in ("audit_log", "action_ledger", "decisions", "proposals", "runs"):
        op.drop_table(table)
