"""Re-verify the audit chain from the first row, naming the first row that does not check out."""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from contextlib import contextmanager

from pydantic import BaseModel
from sqlalchemy import Connection, Engine, select
from sqlalchemy.orm import Session

from service.db.audit import GENESIS_HASH, HASHED_FIELDS, head_mac, row_hash
from service.db.models import AuditHead, AuditRow

_BATCH = 1000


class VerifyResult(BaseModel):
    ok: bool
    rows_checked: int
    first_bad_id: int | None = None
    reason: str | None = None
    head_hash: str | None = None


@contextmanager
def _connection(source: Engine | Connection | Session) -> Iterator[Connection | Session]:
    """One connection for the whole check. On Postgres it reads one snapshot (REPEATABLE READ): the
    rows and the signed head are then from the same moment, so a row appended by a worker while
    the chain is being read is not mistaken for a chain that ends before its head."""
    if isinstance(source, Engine):
        options = {"isolation_level": "REPEATABLE READ"} if source.dialect.name == "postgresql" else {}
        with source.connect().execution_options(**options) as conn, conn.begin():
            yield conn
    else:
        yield source


def verify_chain(
    source: Engine | Connection | Session,
    *,
    expected_head: str | None = None,
    key: bytes | None = None,
    checkpoints: list[Checkpoint] | None = None,
) -> VerifyResult:
    """Recompute every link in id order, then hold the chain against its anchors.

    A changed row fails its own hash; a deleted row makes the next row's `prev_hash` dangle; an
    inserted row fails either its own hash or its successor's link. Rows removed from the end, or
    rows rewritten with every later hash recomputed, still form a valid chain: they are caught by
    the signed head (`audit_head`, MAC'd with `key`, which is not in the database), by exported
    `checkpoints` (each names a row id and the hash it had), or by an `expected_head` kept elsewhere.
    """
    table = AuditRow.__table__
    prev = GENESIS_HASH
    checked = 0
    last_id = -1
    with _connection(source) as conn:
        while True:
            stmt = select(table).where(table.c.id > last_id).order_by(table.c.id).limit(_BATCH)
            rows = conn.execute(stmt).mappings().all()
            if not rows:
                break
            for row in rows:
                checked += 1
                if row["prev_hash"] != prev:
                    return VerifyResult(
                        ok=False,
                        rows_checked=checked,
                        first_bad_id=row["id"],
                        reason="prev_hash does not link to the preceding row (a row was deleted or inserted)",
                    )
                expected = row_hash(prev, {name: row[name] for name in HASHED_FIELDS})
                if row["hash"] != expected:
                    return VerifyResult(
                        ok=False,
                        rows_checked=checked,
                        first_bad_id=row["id"],
                        reason="stored hash does not match the row's content (row altered or forged)",
                    )
                prev = row["hash"]
                last_id = row["id"]
        head = None if checked == 0 else prev
        anchored = _check_anchors(conn, checked, last_id, head, key, checkpoints or [])
    if anchored is not None:
        return anchored
    if expected_head is not None and head != expected_head:
        return VerifyResult(
            ok=False,
            rows_checked=checked,
            first_bad_id=None if checked == 0 else last_id,
            reason="last hash differs from the anchored head (rows removed from the end or rewritten)",
            head_hash=head,
        )
    return VerifyResult(ok=True, rows_checked=checked, head_hash=head)


class Checkpoint(BaseModel):
    """An exported head (`sprintpilot audit checkpoint`): kept or posted outside the database."""

    row_id: int
    hash: str
    mac: str | None = None
    ts: str | None = None


def _check_anchors(
    source: Engine | Connection | Session,
    checked: int,
    last_id: int,
    head_hash: str | None,
    key: bytes | None,
    checkpoints: list[Checkpoint],
) -> VerifyResult | None:
    table = AuditRow.__table__
    with _connection(source) as conn:
        stored = (
            conn.execute(select(AuditHead.__table__).where(AuditHead.__table__.c.id == 1)).mappings().first()
        )
        for cp in checkpoints:
            found = conn.execute(select(table.c.hash).where(table.c.id == cp.row_id)).scalar()
            if found != cp.hash:
                what = "is missing" if found is None else "has a different hash"
                return _bad(checked, cp.row_id, f"row {cp.row_id} of an exported checkpoint {what}")
    if stored is None:
        if checked:
            return _bad(checked, None, "the signed head record is missing (deleted)", head_hash)
        return None
    if stored["row_id"] != last_id or stored["hash"] != head_hash:
        return _bad(
            checked,
            stored["row_id"],
            f"the chain ends at row {last_id} but the signed head names row {stored['row_id']}: rows were "
            "removed from the end, or rewritten and re-chained",
            head_hash,
        )
    if key is not None:
        if stored["mac"] is None:
            return _bad(
                checked, last_id, "the head record is unsigned although an audit key is set", head_hash
            )
        if not hmac.compare_digest(stored["mac"], head_mac(key, stored["row_id"], stored["hash"])):
            return _bad(
                checked, last_id, "the head record's signature does not match (head rewritten)", head_hash
            )
    return None


def _bad(checked: int, row: int | None, reason: str, head: str | None = None) -> VerifyResult:
    return VerifyResult(ok=False, rows_checked=checked, first_bad_id=row, reason=reason, head_hash=head)


def export_checkpoint(source: Engine | Connection | Session) -> Checkpoint | None:
    """The current signed head, to keep or post somewhere the database's writers cannot reach."""
    with _connection(source) as conn:
        stored = (
            conn.execute(select(AuditHead.__table__).where(AuditHead.__table__.c.id == 1)).mappings().first()
        )
    if stored is None:
        return None
    return Checkpoint(
        row_id=stored["row_id"], hash=stored["hash"], mac=stored["mac"], ts=str(stored["updated_at"])
    )
