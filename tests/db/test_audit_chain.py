from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, exc, text

from graphs.ports import AuditRecord
from service.db import GENESIS_HASH, SqlAuditLog, append_audit, verify_chain, write_session
from service.db.audit import AUDIT_KEY_OPTION, HASHED_FIELDS, audit_key_of, row_hash
from service.db.audit_verify import export_checkpoint


@pytest.fixture
def filled(engine: Engine, make_record: Callable[..., AuditRecord]) -> SqlAuditLog:
    log = SqlAuditLog(engine)
    for i in range(50):
        log.append(make_record(i))
    return log


def test_hash_follows_the_documented_formula(engine: Engine, make_record: Callable[..., AuditRecord]) -> None:
    ts = datetime(2026, 11, 3, 9, 30, 0, 123456, tzinfo=UTC)
    with write_session(engine) as session:
        row = append_audit(session, make_record(7), ts=ts)
        stored_hash, stored_prev = row.hash, row.prev_hash
    # Recompute independently of the implementation: sha256(prev_hash || canonical JSON).
    fields = make_record(7).model_dump(mode="json")
    fields.update(ts_utc="2026-11-03T09:30:00.123456Z", prev_hash=GENESIS_HASH)
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    assert stored_prev == GENESIS_HASH
    assert stored_hash == hashlib.sha256((GENESIS_HASH + canonical).encode()).hexdigest()


def test_fifty_rows_verify(engine: Engine, filled: SqlAuditLog) -> None:
    result = verify_chain(engine)
    assert result.ok and result.rows_checked == 50 and result.first_bad_id is None
    assert result.head_hash == filled.head()
    rows = filled.rows(limit=50, newest_first=False)
    assert rows[0].prev_hash == GENESIS_HASH
    assert all(b.prev_hash == a.hash for a, b in zip(rows, rows[1:], strict=False))
    assert verify_chain(engine, expected_head=filled.head()).ok
    # Values survive the round trip exactly (floats, unicode) - the chain depends on it.
    assert rows[3].after == {"due_on": "2026-01-02", "ratio": 0.1 * 3}
    assert rows[3].details["note"] == "ünïcode ✓"


def test_empty_log_verifies(engine: Engine) -> None:
    result = verify_chain(engine)
    assert result.ok and result.rows_checked == 0 and result.head_hash is None


def test_secrets_are_masked_before_hashing(engine: Engine, make_record: Callable[..., AuditRecord]) -> None:
    log = SqlAuditLog(engine)
    log.append(make_record(1, details={"api_token": "tok-123", "nested": [{"Authorization": "Bearer x"}]}))
    row = log.rows(1)[0]
    assert row.details == {"api_token": "***", "nested": [{"Authorization": "***"}]}
    assert verify_chain(engine).ok


def test_update_and_delete_are_blocked(engine: Engine, filled: SqlAuditLog) -> None:
    for sql in ("UPDATE audit_log SET reason = 'edited' WHERE id = 3", "DELETE FROM audit_log WHERE id = 3"):
        with pytest.raises(exc.DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(sql))
    if engine.dialect.name == "postgresql":
        with pytest.raises(exc.DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text("TRUNCATE audit_log"))
    assert verify_chain(engine).rows_checked == 50


def test_content_change_is_detected(engine: Engine, filled: SqlAuditLog, tampering) -> None:  # type: ignore[no-untyped-def]
    with tampering(engine) as conn:
        conn.execute(text("UPDATE audit_log SET outcome = 'failed' WHERE id = 17"))
    result = verify_chain(engine)
    assert not result.ok
    assert result.first_bad_id == 17 and result.rows_checked == 17
    assert "content" in (result.reason or "")


def test_json_change_is_detected(engine: Engine, filled: SqlAuditLog, tampering) -> None:  # type: ignore[no-untyped-def]
    with tampering(engine) as conn:
        conn.execute(text("""UPDATE audit_log SET "after" = '{"due_on": "2030-01-01"}' WHERE id = 31"""))
    assert verify_chain(engine).first_bad_id == 31


def test_deleted_row_is_detected(engine: Engine, filled: SqlAuditLog, tampering) -> None:  # type: ignore[no-untyped-def]
    with tampering(engine) as conn:
        conn.execute(text("DELETE FROM audit_log WHERE id = 23"))
    result = verify_chain(engine)
    assert not result.ok and result.first_bad_id == 24
    assert "deleted or inserted" in (result.reason or "")


def test_deleting_the_first_row_is_detected(engine: Engine, filled: SqlAuditLog, tampering) -> None:  # type: ignore[no-untyped-def]
    with tampering(engine) as conn:
        conn.execute(text("DELETE FROM audit_log WHERE id = 1"))
    assert verify_chain(engine).first_bad_id == 2


def test_inserted_rows_are_detected(  # type: ignore[no-untyped-def]
    engine: Engine, filled: SqlAuditLog, tampering, make_record: Callable[..., AuditRecord]
) -> None:
    head = filled.head()
    ts = datetime(2026, 1, 1, tzinfo=UTC)
    forged = make_record(99, actor="human:mallory", event="decision.approve").model_dump(mode="json")
    forged["ts_utc"] = ts
    # 1. A forged row with a made-up hash at the end: fails its own hash.
    # 2. A well-formed row forked off row 10: its link does not match row 50.
    # 3. A well-formed row before row 1 (id 0): row 1 no longer links to it.
    with engine.connect() as conn:
        row10_hash = conn.execute(text("SELECT hash FROM audit_log WHERE id = 10")).scalar_one()
    cases: list[tuple[int, str, str | None, int]] = [
        (1000, str(head), "f" * 64, 1000),
        (1000, row10_hash, None, 1000),
        (0, GENESIS_HASH, None, 1),
    ]
    for row_id, prev, forced_hash, expect_bad in cases:
        values = {**forged, "prev_hash": prev}
        values["hash"] = forced_hash or row_hash(prev, values)
        with tampering(engine) as conn:
            conn.execute(
                text(
                    "INSERT INTO audit_log (id, ts_utc, actor, event, outcome, thread_id, proposal_id, "
                    'action_index, idempotency_key, target, "before", "after", reason, model, details, '
                    "prev_hash, hash) VALUES (:id, :ts, :actor, :event, :outcome, :thread_id, :proposal_id, "
                    ":action_index, :idempotency_key, :target, :before, :after, :reason, :model, :details, "
                    ":prev_hash, :hash)"
                ),
                {
                    **{k: values[k] for k in ("actor", "event", "outcome", "thread_id", "proposal_id")},
                    **{
                        k: values[k] for k in ("action_index", "idempotency_key", "target", "reason", "model")
                    },
                    "id": row_id,
                    "ts": ts,
                    "before": json.dumps(values["before"]),
                    "after": json.dumps(values["after"]),
                    "details": json.dumps(values["details"]),
                    "prev_hash": prev,
                    "hash": values["hash"],
                },
            )
        result = verify_chain(engine)
        assert not result.ok and result.first_bad_id == expect_bad, (row_id, result)
        with tampering(engine) as conn:
            conn.execute(text("DELETE FROM audit_log WHERE id = :id"), {"id": row_id})
        assert verify_chain(engine).ok


def test_truncating_the_tail_is_caught_by_the_signed_head(  # type: ignore[no-untyped-def]
    engine: Engine, filled: SqlAuditLog, tampering
) -> None:
    """Issue 15 reproduction 6: deleting the tail of the log used to pass `audit verify`."""
    anchored = filled.head()
    with tampering(engine) as conn:
        conn.execute(text("DELETE FROM audit_log WHERE id = 50"))
    result = verify_chain(engine)
    assert not result.ok and result.first_bad_id == 50 and "removed from the end" in (result.reason or "")
    result = verify_chain(engine, expected_head=anchored)
    assert not result.ok


def _rechain_from(conn: Any, first: int) -> None:
    """Rewrite row `first` and recompute every later hash, as an attacker with DB access could."""
    conn.execute(text("UPDATE audit_log SET reason = 'nothing to see' WHERE id = :id"), {"id": first})
    rows = (
        conn.execute(text("SELECT * FROM audit_log WHERE id >= :id ORDER BY id"), {"id": first})
        .mappings()
        .all()
    )
    prev = conn.execute(text("SELECT hash FROM audit_log WHERE id = :id"), {"id": first - 1}).scalar_one()
    for row in rows:
        fields = {k: row[k] for k in HASHED_FIELDS}
        for name in ("before", "after", "details"):
            if isinstance(fields[name], str):
                fields[name] = json.loads(fields[name])
        if isinstance(fields["ts_utc"], str):
            fields["ts_utc"] = datetime.fromisoformat(fields["ts_utc"])
        new = row_hash(prev, fields)
        conn.execute(
            text("UPDATE audit_log SET prev_hash = :p, hash = :h WHERE id = :id"),
            {"p": prev, "h": new, "id": row["id"]},
        )
        prev = new
    # And move the head to the forged chain's end (the attacker cannot sign it without the key).
    conn.execute(text("UPDATE audit_head SET hash = :h WHERE id = 1"), {"h": prev})


def test_a_rewritten_and_rechained_log_is_caught_by_the_head_signature(  # type: ignore[no-untyped-def]
    engine: Engine, make_record: Callable[..., AuditRecord], tampering
) -> None:
    engine.update_execution_options(**{AUDIT_KEY_OPTION: b"key-kept-outside-the-database"})
    log = SqlAuditLog(engine)
    for i in range(20):
        log.append(make_record(i))
    key = audit_key_of(engine)
    assert key is not None and verify_chain(engine, key=key).ok
    with tampering(engine) as conn:
        _rechain_from(conn, 7)
    assert verify_chain(engine).ok  # the chain alone is consistent again...
    result = verify_chain(engine, key=key)
    assert not result.ok and "signature" in (result.reason or "")  # ...but the head signature is not


def test_an_exported_checkpoint_catches_truncation_with_a_forged_head(  # type: ignore[no-untyped-def]
    engine: Engine, filled: SqlAuditLog, tampering
) -> None:
    checkpoint = export_checkpoint(engine)
    assert checkpoint is not None and checkpoint.row_id == 50
    with tampering(engine) as conn:
        conn.execute(text("DELETE FROM audit_log WHERE id > 40"))
        forged = conn.execute(text("SELECT hash FROM audit_log WHERE id = 40")).scalar_one()
        conn.execute(text("UPDATE audit_head SET row_id = 40, hash = :h WHERE id = 1"), {"h": forged})
    assert verify_chain(engine).ok  # no key configured: a consistent forged head passes alone
    result = verify_chain(engine, checkpoints=[checkpoint])
    assert not result.ok and result.first_bad_id == 50 and "checkpoint" in (result.reason or "")
