"""`graphs.ports.ApplyJournal` over the app database: the action ledger plus its audit rows.

The ledger row is written *before* the Asana call (PENDING) and finished after it; each step
commits together with its audit row, so the log can never claim a write the ledger lacks, or
the reverse.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from graphs.ports import AuditRecord, LedgerEntry, LedgerStatus, wrote_to_asana
from service.db.audit import append_audit
from service.db.engine import dialect_insert, read_session, write_session
from service.db.models import LedgerRow, utcnow


def ledger_entry(row: LedgerRow) -> LedgerEntry:
    return LedgerEntry(
        key=row.key,
        thread_id=row.thread_id,
        proposal_id=row.proposal_id,
        action_index=row.action_index,
        kind=row.kind,
        target=row.target,
        status=LedgerStatus(row.status),
        result=row.result,
        attempts=row.attempts,
        updated_at=row.updated_at,
        fact_key=row.fact_key,
        budget_project=row.budget_project,
    )


class SqlApplyJournal:
    """Idempotency ledger for the apply node.

    `audit_begin=True` also audits every `begin` (`action.begin`, outcome `pending`, or `skipped`
    when the key is already finished), so retries and crash-resumes are visible in the log.
    """

    def __init__(self, engine: Engine, *, audit_begin: bool = True, actor: str = "system:apply") -> None:
        self.engine = engine
        self.audit_begin = audit_begin
        self.actor = actor

    def get(self, key: str) -> LedgerEntry | None:
        with read_session(self.engine) as session:
            row = session.get(LedgerRow, key)
            return None if row is None else ledger_entry(row)

    def begin(self, entry: LedgerEntry) -> LedgerEntry:
        with write_session(self.engine) as session:
            # Insert-if-absent then lock: two concurrent begins on one key serialise on the row
            # instead of one failing with a duplicate-key error.
            session.execute(
                dialect_insert(session)(LedgerRow)
                .values(
                    key=entry.key,
                    thread_id=entry.thread_id,
                    proposal_id=entry.proposal_id,
                    action_index=entry.action_index,
                    kind=entry.kind,
                    target=entry.target,
                    fact_key=entry.fact_key,
                    budget_project=entry.budget_project,
                    status=LedgerStatus.PENDING.value,
                    attempts=0,
                    created_at=utcnow(),
                    updated_at=utcnow(),
                )
                .on_conflict_do_nothing(index_elements=["key"])
            )
            row = session.get(LedgerRow, entry.key, with_for_update=True, populate_existing=True)
            assert row is not None
            row.attempts += 1
            row.updated_at = utcnow()
            session.flush()
            if self.audit_begin:
                pending = row.status == LedgerStatus.PENDING.value
                append_audit(
                    session,
                    AuditRecord(
                        actor=self.actor,
                        event="action.begin",
                        outcome="pending" if pending else "skipped",
                        thread_id=row.thread_id,
                        proposal_id=row.proposal_id,
                        action_index=row.action_index,
                        idempotency_key=row.key,
                        target=row.target,
                        details={"kind": row.kind, "attempt": row.attempts, "ledger_status": row.status},
                    ),
                )
            return ledger_entry(row)

    def finish(
        self, key: str, status: LedgerStatus, result: dict[str, Any] | None, audit: AuditRecord
    ) -> None:
        with write_session(self.engine) as session:
            row = session.get(LedgerRow, key, with_for_update=True)
            if row is None:
                row = self._row_from_audit(session, key, audit)
            row.status = LedgerStatus(status).value
            row.result = result
            row.updated_at = utcnow()
            session.flush()
            if audit.idempotency_key is None:
                audit = audit.model_copy(update={"idempotency_key": key})
            append_audit(session, audit)

    @staticmethod
    def _row_from_audit(session: Session, key: str, audit: AuditRecord) -> LedgerRow:
        # Rejected/denied actions may be finished without ever being begun; the audit record
        # carries the identity we need. Without it we refuse rather than invent one.
        if audit.thread_id is None or audit.proposal_id is None or audit.action_index is None:
            raise KeyError(f"no ledger entry {key!r}; call begin() first")
        row = LedgerRow(
            key=key,
            thread_id=audit.thread_id,
            proposal_id=audit.proposal_id,
            action_index=audit.action_index,
            kind=str(audit.details.get("kind", "unknown")),
            target=audit.target,
            status=LedgerStatus.PENDING.value,
            attempts=0,
        )
        session.add(row)
        return row

    def applied_fact(self, fact_key: str, *, other_than: str) -> LedgerEntry | None:
        stmt = (
            select(LedgerRow)
            .where(
                LedgerRow.fact_key == fact_key,
                LedgerRow.status == LedgerStatus.DONE.value,
                LedgerRow.proposal_id != other_than,
            )
            .order_by(LedgerRow.updated_at.desc())
            .limit(1)
        )
        with read_session(self.engine) as session:
            row = session.scalars(stmt).first()
            return None if row is None else ledger_entry(row)

    def done_since(self, project_gid: str, since: datetime) -> int:
        stmt = select(LedgerRow.result).where(
            LedgerRow.budget_project == project_gid,
            LedgerRow.status == LedgerStatus.DONE.value,
            LedgerRow.updated_at >= since,
        )
        with read_session(self.engine) as session:
            return sum(1 for result in session.scalars(stmt) if wrote_to_asana(result))

    def entries(self, proposal_id: str) -> list[LedgerEntry]:
        with read_session(self.engine) as session:
            stmt = (
                select(LedgerRow).where(LedgerRow.proposal_id == proposal_id).order_by(LedgerRow.action_index)
            )
            return [ledger_entry(r) for r in session.scalars(stmt)]
