"""Concurrent writers must never fork the audit chain.

Postgres serialises appends with an advisory lock, SQLite with BEGIN IMMEDIATE.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from sqlalchemy import Engine

from agents.proposal import idempotency_key
from graphs.ports import AuditRecord, LedgerEntry, LedgerStatus
from service.db import SqlApplyJournal, SqlAuditLog, verify_chain

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
