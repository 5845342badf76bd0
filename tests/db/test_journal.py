from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

import service.db.journal as journal_module
from agents.proposal import idempotency_key
from graphs.ports import ApplyJournal, AuditRecord, LedgerEntry, LedgerStatus
from service.db import SqlApplyJournal, SqlAuditLog, read_session, verify_chain
from service.db.models import AuditRow, LedgerRow


def entry(i: int = 0, thread: str = "t-1", proposal: str = "p-1") -> LedgerEntry:
    return LedgerEntry(
        key=idempotency_key(thread, proposal, i),
        thread_id=thread,
        proposal_id=proposal,
        action_index=i,
        kind="update_task",
        target="1200",
        status=LedgerStatus.PENDING,
    )


def counts(engine: Engine) -> tuple[int, int]:
    with read_session(engine) as s:
        return (
            s.scalar(select(func.count()).select_from(LedgerRow)) or 0,
            s.scalar(select(func.count()).select_from(AuditRow)) or 0,
        )


def test_satisfies_protocol(engine: Engine) -> None:
    journal: ApplyJournal = SqlApplyJournal(engine)
    assert journal.get("missing") is None


def test_double_begin_increments_attempts_on_the_same_row(engine: Engine) -> None:
    journal = SqlApplyJournal(engine)
    first = journal.begin(entry())
    assert first.status is LedgerStatus.PENDING and first.attempts == 1
    second = journal.begin(entry())
    assert second.key == first.key and second.attempts == 2 and second.status is LedgerStatus.PENDING
    assert counts(engine)[0] == 1
    stored = journal.get(first.key)
    assert stored is not None and stored.attempts == 2 and stored.updated_at is not None


def test_finish_records_outcome_and_audit_together(
    engine: Engine, make_record: Callable[..., AuditRecord]
) -> None:
    journal = SqlApplyJournal(engine)
    e = journal.begin(entry())
    journal.finish(e.key, LedgerStatus.DONE, {"gid": "555"}, make_record(0, idempotency_key=None))
    done = journal.get(e.key)
    assert done is not None and done.status is LedgerStatus.DONE and done.result == {"gid": "555"}
    rows = SqlAuditLog(engine).rows(10, newest_first=False)
    assert [r.event for r in rows] == ["action.begin", "action.applied"]
    assert rows[0].outcome == "pending" and rows[0].details["attempt"] == 1
    assert rows[1].idempotency_key == e.key  # filled in from the ledger key
    assert verify_chain(engine).ok
    # A resumed apply sees DONE and skips; the retry is still visible in the log.
    again = journal.begin(entry())
    assert again.status is LedgerStatus.DONE and again.result == {"gid": "555"} and again.attempts == 2
    assert SqlAuditLog(engine).rows(1)[0].outcome == "skipped"


def test_failure_in_finish_persists_neither(
    engine: Engine, make_record: Callable[..., AuditRecord], monkeypatch: pytest.MonkeyPatch
) -> None:
    journal = SqlApplyJournal(engine)
    e = journal.begin(entry())
    before = counts(engine)
    real = journal_module.append_audit

    def append_then_crash(session: Session, record: AuditRecord) -> Any:
        real(session, record)  # the audit row is flushed inside the transaction...
        raise RuntimeError("crash before commit")  # ...and then the process dies

    monkeypatch.setattr(journal_module, "append_audit", append_then_crash)
    with pytest.raises(RuntimeError):
        journal.finish(e.key, LedgerStatus.DONE, {"gid": "1"}, make_record(0))
    assert counts(engine) == before
    stored = journal.get(e.key)
    assert stored is not None and stored.status is LedgerStatus.PENDING and stored.result is None
    assert verify_chain(engine).ok


def test_failure_in_begin_persists_neither(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    journal = SqlApplyJournal(engine)

    def crash(session: Session, record: AuditRecord) -> Any:
        raise RuntimeError("audit unavailable")

    monkeypatch.setattr(journal_module, "append_audit", crash)
    with pytest.raises(RuntimeError):
        journal.begin(entry())
    assert counts(engine) == (0, 0)


def test_finish_without_begin_for_rejected_action(
    engine: Engine, make_record: Callable[..., AuditRecord]
) -> None:
    journal = SqlApplyJournal(engine)
    key = idempotency_key("t-9", "p-9", 3)
    audit = make_record(
        3,
        thread_id="t-9",
        proposal_id="p-9",
        event="action.rejected",
        outcome="rejected",
        details={"kind": "update_task"},
    )
    journal.finish(key, LedgerStatus.REJECTED, None, audit)
    stored = journal.get(key)
    assert stored is not None and stored.status is LedgerStatus.REJECTED and stored.kind == "update_task"
    assert stored.attempts == 0
    with pytest.raises(KeyError):
        journal.finish("unknown", LedgerStatus.DONE, None, AuditRecord(actor="a", event="e", outcome="ok"))


def test_begin_audit_can_be_disabled(engine: Engine) -> None:
    SqlApplyJournal(engine, audit_begin=False).begin(entry())
    assert counts(engine) == (1, 0)


def test_concurrent_begins_on_one_key_serialise(engine: Engine) -> None:
    journal = SqlApplyJournal(engine)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            journal.begin(entry())
        except BaseException as err:  # noqa: BLE001 - reported below
            errors.append(err)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    stored = journal.get(entry().key)
    assert stored is not None and stored.attempts == 4
    assert counts(engine) == (1, 4)
    assert verify_chain(engine).ok
