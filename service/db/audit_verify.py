"""Re-verify the audit chain from the first row, naming the first row that does not check out."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from pydantic import BaseModel
from sqlalchemy import Connection, Engine, select
from sqlalchemy.orm import Session

from service.db.audit import GENESIS_HASH, HASHED_FIELDS, row_hash
from service.db.models import AuditRow

_BATCH = 1000


class VerifyResult(BaseModel):
    ok: bool
    rows_checked: int
    first_bad_id: int | None = None
    reason: str | None = None
    head_hash: str | None = None


@contextmanager
def _connection(source: Engine | Connection | Session) -> Iterator[Connection | Session]:
    if isinstance(source, Engine):
        with source.connect() as conn:
            yield conn
    else:
        yield source


def verify_chain(source: Engine | Connection | Session, *, expected_head: str | None = None) -> VerifyResult:
    """Recompute every link in id order.

    A changed row fails its own hash; a deleted row makes the next row's `prev_hash` dangle; an
    inserted row fails either its own hash or its successor's link. Removing rows from the very
    end is only detectable against an externally kept head hash: pass it as `expected_head`.
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
    if expected_head is not None and head != expected_head:
        return VerifyResult(
            ok=False,
            rows_checked=checked,
            first_bad_id=None if checked == 0 else last_id,
            reason="last hash differs from the anchored head (rows removed from the end or rewritten)",
            head_hash=head,
        )
    return VerifyResult(ok=True, rows_checked=checked, head_hash=head)
