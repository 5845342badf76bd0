"""Concurrent writers must never fork the audit chain.

Postgres serialises appends with an advisory lock, SQLite with BEGIN IMMEDIATE.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from sqlalchemy import Engine

from agents.proposal import idempotency_key
from graphs.ports import AuditRecord, LedgerEntry, LedgerStatus
from service.db import SqlApplyJournal, SqlAuditLog, make_engine, migrate, verify_chain

THREADS = 4
PER_THREAD = 15


def test_concurrent_appends_keep_a_valid_chain(
    engine: Engine, make_record: Callable[..., AuditRecord]
) -> None:
    log, journal = SqlAuditLog(engine), SqlApplyJournal(engine)
    barrier = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            barrier.wait()
            for i in range(PER_THREAD):
                if i % 3 == 0:  # mix plain appends with ledger transactions
                    key = idempotency_key(f"t-{n}", "p", i)
                    journal.begin(
                        LedgerEntry(
                            key=key,
                            thread_id=f"t-{n}",
                            proposal_id="p",
                            action_index=i,
                            kind="post_comment",
                            status=LedgerStatus.PENDING,
                        )
                    )
                    journal.finish(key, LedgerStatus.DONE, {"i": i}, make_record(i, thread_id=f"t-{n}"))
                else:
                    log.append(make_record(i, thread_id=f"t-{n}"))
        except BaseException as err:  # noqa: BLE001 - reported below
            errors.append(err)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    per_thread_rows = PER_THREAD + len(range(0, PER_THREAD, 3))  # ledger steps write begin + finish
    result = verify_chain(engine)
    assert result.ok, result
    assert result.rows_checked == THREADS * per_thread_rows
    hashes = [r.prev_hash for r in log.rows(1000)]
    assert len(set(hashes)) == len(hashes)  # no two rows chained to the same predecessor


def test_a_row_appended_while_the_chain_is_verified_is_not_tampering(
    pg_url: str, make_record: Callable[..., AuditRecord], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Workers keep auditing while `audit verify` (or the soak's check) reads the chain: the rows
    and the signed head are read in one snapshot, so an append in between is not reported as a
    chain that ends before its head (seen once in the Celery approval soak under CI load). On
    Postgres only: SQLite serialises the writer and the reader on one file lock."""
    import service.db.audit_verify as audit_verify

    migrate(pg_url)
    engine = make_engine(pg_url)
    try:
        log = SqlAuditLog(engine)
        for i in range(3):
            log.append(make_record(i))
        check_anchors = audit_verify._check_anchors

        def appended_meanwhile(*args: object, **kwargs: object) -> object:
            log.append(make_record(99))  # another process, between the rows and the head
            return check_anchors(*args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(audit_verify, "_check_anchors", appended_meanwhile)
        result = verify_chain(engine)
        assert result.ok and result.rows_checked == 3, result
        monkeypatch.undo()
        assert verify_chain(engine).rows_checked == 4
    finally:
        engine.dispose()
