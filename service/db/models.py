"""The app database schema (SQLAlchemy 2.0 typed ORM); the alembic migrations create exactly this.

Portable across Postgres and SQLite: JSON columns become JSONB on Postgres where we may query
them, but the audit log keeps plain JSON (stored verbatim) so the hash chain re-verifies byte for
byte. Timestamps are always timezone-aware UTC, including on SQLite, which drops the offset.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from graphs.ports import STILL_COUNTING, LedgerStatus

# Deterministic constraint names, so migrations and models agree on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class ProposalStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    PARTIALLY_APPROVED = "partially_approved"
    APPLYING = "applying"  # nothing needed a human; auto actions are being applied (graphs/publish.py)
    REJECTED = "rejected"
    APPLIED = "applied"
    # Outcomes the report step records after apply (graphs/report.py).
    PARTIALLY_APPLIED = "partially_applied"
    CONFLICT = "conflict"
    FAILED = "failed"
    DENIED = "denied"
    EMPTY = "empty"
    ERROR = "error"
    # Closed without a decision: nobody decided before the approval was due / a newer proposal
    # for the same scope replaced it. Nothing of either is applied.
    EXPIRED = "expired"
    SUPERSEDED = "superseded"


# Statuses that still stand (graphs.ports.STILL_COUNTING, where the gate's rule lives).
STILL_COUNTS = frozenset(ProposalStatus(s) for s in STILL_COUNTING)

# A human decision has been made once a proposal reaches one of these.
DECIDED_STATUSES = frozenset(
    {ProposalStatus.APPROVED, ProposalStatus.PARTIALLY_APPROVED, ProposalStatus.REJECTED}
)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always stored and returned as aware UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# Queryable JSON (JSONB on Postgres) for app tables.
JsonDoc = JSON().with_variant(JSONB(), "postgresql")


def _in(values: Any) -> str:
    return ", ".join(f"'{v.value}'" for v in values)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Run(Base):
    __tablename__ = "runs"

    thread_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    agent: Mapped[str] = mapped_column(String(64))
    trigger: Mapped[str] = mapped_column(String(64))
    request: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    status: Mapped[str] = mapped_column(String(32), index=True)
    detail: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ProposalRow(Base):
    __tablename__ = "proposals"
    __table_args__ = (CheckConstraint(f"status IN ({_in(ProposalStatus)})", name="status"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    # No FK to runs: a proposal may be recorded by an eval or replay that never registered a run.
    thread_id: Mapped[str] = mapped_column(String(128), index=True)
    agent: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(32), index=True)
    body: Mapped[dict[str, Any]] = mapped_column(JsonDoc)
    digest: Mapped[str] = mapped_column(String(64))
    model: Mapped[str] = mapped_column(String(128))
    approval_task_gid: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DecisionRow(Base):
    __tablename__ = "decisions"
    __table_args__ = (UniqueConstraint("proposal_id", "action_index"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    proposal_id: Mapped[str] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"), index=True)
    action_index: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(16))
    edited_name: Mapped[str | None] = mapped_column(String(64))
    edited_args: Mapped[dict[str, Any] | None] = mapped_column(JsonDoc)
    message: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LedgerRow(Base):
    __tablename__ = "action_ledger"
    __table_args__ = (
        CheckConstraint(f"status IN ({_in(LedgerStatus)})", name="status"),
        Index(None, "proposal_id", "action_index"),
        Index(None, "budget_project", "updated_at"),
    )

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    thread_id: Mapped[str] = mapped_column(String(128), index=True)
    proposal_id: Mapped[str] = mapped_column(String(64))
    action_index: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(64))
    target: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    result: Mapped[dict[str, Any] | None] = mapped_column(JsonDoc)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # graphs/repeats.fact_key of what the write states; the project whose daily write budget an
    # automatic write counts against.
    fact_key: Mapped[str | None] = mapped_column(String(64), index=True)
    budget_project: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class AuditHead(Base):
    """The audit chain's head, kept outside the rows it covers and moved only forward, in the same
    transaction as each append. `mac` = HMAC-SHA256(audit key, "row_id:hash") with a key that is
    not in the database, so deleting the tail or re-chaining rewritten rows cannot be hidden by
    also rewriting this row."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # always 1
    row_id: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))
    mac: Mapped[str | None] = mapped_column(String(64), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuditRow(Base):
    """Append-only, hash-chained. Every column except `id` and `hash` is covered by `hash`."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ts_utc: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(200))
    event: Mapped[str] = mapped_column(String(100), index=True)
    outcome: Mapped[str] = mapped_column(String(32))
    thread_id: Mapped[str | None] = mapped_column(String(128), index=True)
    proposal_id: Mapped[str | None] = mapped_column(String(64), index=True)
    action_index: Mapped[int | None] = mapped_column(Integer)
    idempotency_key: Mapped[str | None] = mapped_column(String(64))
    target: Mapped[str | None] = mapped_column(String(200))
    before: Mapped[Any] = mapped_column(JSON, nullable=True)
    after: Mapped[Any] = mapped_column(JSON, nullable=True)
    reason: Mapped[str | None] = mapped_column(Text)
    model: Mapped[str | None] = mapped_column(String(128))
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class OAuthTokenRow(Base):
    """An Asana user's OAuth tokens (service/oauth/tokens.py), Fernet-encrypted: a database dump
    alone never yields a usable token. `service` marks the service account's row."""

    __tablename__ = "oauth_tokens"

    user_gid: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_name: Mapped[str | None] = mapped_column(String(200))
    access_token_enc: Mapped[str] = mapped_column(Text)
    refresh_token_enc: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    scopes: Mapped[str | None] = mapped_column(Text)
    service: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
