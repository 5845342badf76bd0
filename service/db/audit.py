"""The hash-chained, append-only audit log.

Each row stores `hash = sha256(prev_hash || canonical_json(row without id/hash))`, with the first
row chained to 64 zeros, so editing, deleting or inserting a row breaks every later link. Appends
are serialised so the chain never forks: a transaction-level advisory lock on Postgres, the
database write lock (`BEGIN IMMEDIATE`) on SQLite. Appending inside the caller's session lets the
ledger update and its audit row commit or roll back together.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from graphs.ports import AuditRecord
from service.db.engine import read_session, write_session
from service.db.models import AuditHead, AuditRow
from service.db.text import clean_value

GENESIS_HASH = "0" * 64
# Arbitrary fixed 64-bit key for pg_advisory_xact_lock; only audit appends take it.
AUDIT_LOCK_KEY = 0x5350_4155_4449_5401  # "SPAUDIT\x01"

HASHED_FIELDS: tuple[str, ...] = (
    "ts_utc",
    "actor",
    "event",
    "outcome",
    "thread_id",
    "proposal_id",
    "action_index",
    "idempotency_key",
    "target",
    "before",
    "after",
    "reason",
    "model",
    "details",
    "prev_hash",
)

# ASVS 16.2.5: credentials never reach the log, even if a caller passes them in details.
_SECRET_KEY = re.compile(r"(token|secret|password|passwd|api[_-]?key|authorization|cookie)", re.I)
REDACTED = "***"


def canonical_json(value: Any) -> str:
    """Sorted keys, compact separators, ASCII only: one byte string per value, on any backend."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)


def format_ts(ts: datetime) -> str:
    """UTC ISO-8601 with microseconds and a `Z`, independent of how the DB returns the value."""
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def row_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    payload = {name: fields.get(name) for name in HASHED_FIELDS}
    ts = payload["ts_utc"]
    if not isinstance(ts, datetime):
        raise ValueError("audit rows need a ts_utc datetime")
    payload["ts_utc"] = format_ts(ts)
    payload["prev_hash"] = prev_hash
    return hashlib.sha256((prev_hash + canonical_json(payload)).encode("ascii")).hexdigest()


def redact(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: REDACTED if _SECRET_KEY.search(str(k)) else redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


def _lock_chain(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(AUDIT_LOCK_KEY)))
    # SQLite: the session was opened with BEGIN IMMEDIATE, which already holds the write lock.


def append_audit(session: Session, record: AuditRecord, *, ts: datetime | None = None) -> AuditRow:
    """Append one row inside `session`'s transaction (the caller commits)."""
    _lock_chain(session)
    prev = session.scalar(select(AuditRow.hash).order_by(AuditRow.id.desc()).limit(1)) or GENESIS_HASH
    # Round-trip through JSON first so what we hash is exactly what the JSON columns return later.
    # Cleaned as the engine will store it (no NUL or control characters), so the stored row re-verifies.
    data = json.loads(canonical_json(clean_value(redact(record.model_dump(mode="json")))))
    data["details"] = data.get("details") or {}
    data["ts_utc"] = (ts or datetime.now(UTC)).astimezone(UTC)
    row = AuditRow(**{k: data[k] for k in HASHED_FIELDS if k != "prev_hash"}, prev_hash=prev)
    row.hash = row_hash(prev, data)
    session.add(row)
    session.flush()
    _move_head(session, row)
    return row


# The engine execution option that carries the audit key (set by `make_engine` from settings),
# so every append path (journal, audit log, deliveries) signs the head without new parameters.
AUDIT_KEY_OPTION = "sprintpilot_audit_key"


def head_mac(key: bytes, row_id: int, row_hash_: str) -> str:
    return hmac.new(key, f"{row_id}:{row_hash_}".encode("ascii"), hashlib.sha256).hexdigest()


def audit_key_of(session_or_engine: Session | Engine) -> bytes | None:
    bind = session_or_engine.get_bind() if isinstance(session_or_engine, Session) else session_or_engine
    engine = bind.engine if hasattr(bind, "engine") else bind
    key = engine.get_execution_options().get(AUDIT_KEY_OPTION)
    return key if isinstance(key, bytes) and key else None


def _move_head(session: Session, row: AuditRow) -> None:
    """Move the signed head to `row` (the chain lock is held, so heads only move forward)."""
    key = audit_key_of(session)
    mac = head_mac(key, row.id, row.hash) if key else None
    head = session.get(AuditHead, 1)
    if head is None:
        session.add(AuditHead(id=1, row_id=row.id, hash=row.hash, mac=mac, updated_at=datetime.now(UTC)))
    else:
        head.row_id, head.hash, head.mac, head.updated_at = row.id, row.hash, mac, datetime.now(UTC)
    session.flush()


class AuditEntry(BaseModel):
    """One stored audit row, as the CLI/API show it."""

    id: int
    ts_utc: datetime
    actor: str
    event: str
    outcome: str
    thread_id: str | None = None
    proposal_id: str | None = None
    action_index: int | None = None
    idempotency_key: str | None = None
    target: str | None = None
    before: Any = None
    after: Any = None
    reason: str | None = None
    model: str | None = None
    details: dict[str, Any]
    prev_hash: str
    hash: str

    @classmethod
    def of(cls, row: AuditRow) -> AuditEntry:
        return cls.model_validate(row, from_attributes=True)


def query_audit(
    session: Session,
    *,
    limit: int = 100,
    newest_first: bool = True,
    thread_id: str | None = None,
    proposal_id: str | None = None,
) -> list[AuditEntry]:
    stmt = select(AuditRow)
    if thread_id is not None:
        stmt = stmt.where(AuditRow.thread_id == thread_id)
    if proposal_id is not None:
        stmt = stmt.where(AuditRow.proposal_id == proposal_id)
    stmt = stmt.order_by(AuditRow.id.desc() if newest_first else AuditRow.id.asc()).limit(limit)
    return [AuditEntry.of(row) for row in session.scalars(stmt)]


class SqlAuditLog:
    """`graphs.ports.AuditLog` over the app database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def append(self, record: AuditRecord) -> str:
        with write_session(self.engine) as session:
            return append_audit(session, record).hash

    def head(self) -> str | None:
        """The newest row's hash: anchor it elsewhere to detect truncation of the tail."""
        with read_session(self.engine) as session:
            return session.scalar(select(AuditRow.hash).order_by(AuditRow.id.desc()).limit(1))

    def rows(
        self,
        limit: int = 100,
        *,
        newest_first: bool = True,
        thread_id: str | None = None,
        proposal_id: str | None = None,
    ) -> list[AuditEntry]:
        with read_session(self.engine) as session:
            return query_audit(
                session, limit=limit, newest_first=newest_first, thread_id=thread_id, proposal_id=proposal_id
            )
