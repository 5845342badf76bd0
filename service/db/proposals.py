"""`graphs.ports.ProposalRepository` over the app database, plus the queries the CLI and API need."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import Engine, or_, select
from sqlalchemy.orm import Session

from agents.proposal import Decision, Proposal
from graphs.ports import LedgerEntry
from service.db.engine import dialect_insert, read_session, write_session
from service.db.journal import ledger_entry
from service.db.models import (
    DECIDED_STATUSES,
    STILL_COUNTS,
    DecisionRow,
    LedgerRow,
    ProposalRow,
    ProposalStatus,
    Run,
    utcnow,
)
from tools.errors import ConflictError

RUN_STARTED = "running"


class DecisionConflictError(ConflictError, RuntimeError):
    """A proposal already carries different decisions (a second, diverging approval)."""


class RunRecord(BaseModel):
    thread_id: str
    agent: str
    trigger: str
    request: dict[str, Any]
    status: str
    detail: str | None = None
    created_at: datetime
    updated_at: datetime


class DecisionRecord(BaseModel):
    proposal_id: str
    action_index: int
    type: str
    edited_name: str | None = None
    edited_args: dict[str, Any] | None = None
    message: str | None = None
    decided_by: str
    created_at: datetime


class ProposalRecord(BaseModel):
    id: str
    thread_id: str
    agent: str
    title: str
    status: ProposalStatus
    digest: str
    model: str
    approval_task_gid: str | None = None
    created_at: datetime
    updated_at: datetime
    decided_at: datetime | None = None
    proposal: Proposal


class ProposalDetail(ProposalRecord):
    decisions: list[DecisionRecord] = Field(default_factory=list)
    ledger: list[LedgerEntry] = Field(default_factory=list)


def _status(value: str) -> ProposalStatus:
    try:
        return ProposalStatus(value)
    except ValueError as err:
        raise ValueError(f"unknown proposal status {value!r}") from err


def _record(row: ProposalRow) -> ProposalRecord:
    return ProposalRecord(
        id=row.id,
        thread_id=row.thread_id,
        agent=row.agent,
        title=row.title,
        status=ProposalStatus(row.status),
        digest=row.digest,
        model=row.model,
        approval_task_gid=row.approval_task_gid,
        created_at=row.created_at,
        updated_at=row.updated_at,
        decided_at=row.decided_at,
        proposal=Proposal.model_validate(row.body),
    )


def _decision_fields(decision: Decision) -> tuple[str, str | None, dict[str, Any] | None, str | None]:
    edited = decision.edited_action
    return (
        decision.type.value,
        edited.name if edited else None,
        edited.args if edited else None,
        decision.message,
    )


def _mark_decided(row: ProposalRow, status: ProposalStatus) -> None:
    if status in DECIDED_STATUSES and row.decided_at is None:
        row.decided_at = utcnow()


class SqlProposalRepository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # --- ProposalRepository protocol -------------------------------------------------------

    def record_run(self, thread_id: str, agent: str, trigger: str, request: dict[str, Any]) -> None:
        """Register a run; re-recording the same thread (a resumed or redelivered run) is a no-op."""
        now = utcnow()
        with write_session(self.engine) as session:
            session.execute(
                dialect_insert(session)(Run)
                .values(
                    thread_id=thread_id,
                    agent=agent,
                    trigger=trigger,
                    request=request,
                    status=RUN_STARTED,
                    created_at=now,
                    updated_at=now,
                )
                .on_conflict_do_nothing(index_elements=["thread_id"])
            )

    def set_run_status(self, thread_id: str, status: str, detail: str | None = None) -> None:
        with write_session(self.engine) as session:
            run = session.get(Run, thread_id, with_for_update=True)
            if run is None:
                raise KeyError(f"no run {thread_id!r}")
            run.status = status
            run.detail = detail
            run.updated_at = utcnow()

    def save_proposal(self, thread_id: str, proposal: Proposal, status: str) -> None:
        """Insert or refresh a proposal (a re-run node, or actions edited by a reviewer)."""
        state = _status(status)
        with write_session(self.engine) as session:
            row = session.get(ProposalRow, proposal.id, with_for_update=True)
            if row is None:
                row = ProposalRow(id=proposal.id, thread_id=thread_id, created_at=utcnow())
                session.add(row)
            row.thread_id = thread_id
            row.agent = proposal.agent
            row.title = proposal.title
            row.status = state.value
            row.body = proposal.model_dump(mode="json")
            row.digest = proposal.digest()
            row.model = proposal.model
            row.updated_at = utcnow()
            _mark_decided(row, state)

    def set_proposal_status(
        self, proposal_id: str, status: str, approval_task_gid: str | None = None
    ) -> None:
        state = _status(status)
        with write_session(self.engine) as session:
            row = self._proposal_for_update(session, proposal_id)
            row.status = state.value
            if approval_task_gid is not None:
                row.approval_task_gid = approval_task_gid
            row.updated_at = utcnow()
            _mark_decided(row, state)

    def save_decisions(self, proposal_id: str, decisions: list[Decision], decided_by: str) -> None:
        """Store one decision per action index; replaying identical decisions is a no-op."""
        with write_session(self.engine) as session:
            row = self._proposal_for_update(session, proposal_id)
            existing = {
                d.action_index: d
                for d in session.scalars(select(DecisionRow).where(DecisionRow.proposal_id == proposal_id))
            }
            if not existing and row.status != ProposalStatus.PENDING.value:
                # Compare-and-set: only a pending proposal takes a decision, whoever comes second.
                raise DecisionConflictError(
                    f"proposal {proposal_id} is no longer pending (status {row.status}); nothing recorded"
                )
            for index, decision in enumerate(decisions):
                fields = _decision_fields(decision)
                stored = existing.get(index)
                if stored is not None:
                    if (stored.type, stored.edited_name, stored.edited_args, stored.message) != fields:
                        raise DecisionConflictError(
                            f"proposal {proposal_id} action {index} was already decided differently"
                        )
                    continue
                kind, name, args, message = fields
                session.add(
                    DecisionRow(
                        proposal_id=proposal_id,
                        action_index=index,
                        type=kind,
                        edited_name=name,
                        edited_args=args,
                        message=message,
                        decided_by=decided_by,
                        created_at=utcnow(),
                    )
                )

    # --- queries -------------------------------------------------------------------------

    def get_run(self, thread_id: str) -> RunRecord | None:
        with read_session(self.engine) as session:
            run = session.get(Run, thread_id)
            return None if run is None else RunRecord.model_validate(run, from_attributes=True)

    def list_runs(self, limit: int = 100) -> list[RunRecord]:
        with read_session(self.engine) as session:
            stmt = select(Run).order_by(Run.created_at.desc()).limit(limit)
            return [RunRecord.model_validate(r, from_attributes=True) for r in session.scalars(stmt)]

    def list_proposals(self, status: str | None = None, limit: int = 100) -> list[ProposalRecord]:
        """Newest first, optionally filtered by status."""
        stmt = select(ProposalRow).order_by(ProposalRow.created_at.desc(), ProposalRow.id).limit(limit)
        if status is not None:
            stmt = stmt.where(ProposalRow.status == _status(status).value)
        with read_session(self.engine) as session:
            return [_record(r) for r in session.scalars(stmt)]

    def pending_approvals(self) -> list[ProposalRecord]:
        """Proposals waiting for a human, oldest first (the order they should be handled in)."""
        stmt = (
            select(ProposalRow)
            .where(ProposalRow.status == ProposalStatus.PENDING.value)
            .order_by(ProposalRow.created_at, ProposalRow.id)
        )
        with read_session(self.engine) as session:
            return [_record(r) for r in session.scalars(stmt)]

    def waiting_about(self, agent: str, workspace_gid: str, subject: str) -> list[Proposal]:
        """Waiting proposals of `agent` about `subject` (the subject lives in the body: few rows wait)."""
        stmt = (
            select(ProposalRow)
            .where(ProposalRow.status == ProposalStatus.PENDING.value, ProposalRow.agent == agent)
            .order_by(ProposalRow.created_at, ProposalRow.id)
        )
        with read_session(self.engine) as session:
            bodies = [Proposal.model_validate(r.body) for r in session.scalars(stmt)]
        return [b for b in bodies if b.subject == subject and b.scope.workspace_gid == workspace_gid]

    def newer_about(self, proposal: Proposal) -> list[tuple[str, str]]:
        stmt = (
            select(ProposalRow)
            .where(
                ProposalRow.agent == proposal.agent,
                ProposalRow.status.in_([s.value for s in STILL_COUNTS]),
                # graphs.ports.replaces, in SQL: waiting, or decided by a person.
                or_(ProposalRow.status == ProposalStatus.PENDING.value, ProposalRow.decided_at.is_not(None)),
                ProposalRow.created_at >= proposal.created_at,
                ProposalRow.id != proposal.id,
            )
            .order_by(ProposalRow.created_at, ProposalRow.id)
        )
        with read_session(self.engine) as session:
            rows = [(r.id, r.status, Proposal.model_validate(r.body)) for r in session.scalars(stmt)]
        return [
            (pid, status)
            for pid, status, body in rows
            if body.subject == proposal.subject
            and body.scope.workspace_gid == proposal.scope.workspace_gid
            and body.created_at > proposal.created_at
        ]

    def get_proposal(self, proposal_id: str) -> ProposalDetail | None:
        with read_session(self.engine) as session:
            row = session.get(ProposalRow, proposal_id)
            if row is None:
                return None
            decisions = session.scalars(
                select(DecisionRow)
                .where(DecisionRow.proposal_id == proposal_id)
                .order_by(DecisionRow.action_index)
            )
            ledger = session.scalars(
                select(LedgerRow).where(LedgerRow.proposal_id == proposal_id).order_by(LedgerRow.action_index)
            )
            return ProposalDetail(
                **_record(row).model_dump(),
                decisions=[DecisionRecord.model_validate(d, from_attributes=True) for d in decisions],
                ledger=[ledger_entry(e) for e in ledger],
            )

    def find_by_prefix(self, prefix: str, limit: int = 2) -> list[ProposalRecord]:
        """Up to `limit` proposals whose id starts with `prefix`, found by the database.

        `limit=2` is all a caller needs to tell "unique" from "ambiguous"; nothing else is loaded.
        """
        if not prefix:
            return []
        stmt = (
            select(ProposalRow)
            .where(ProposalRow.id.startswith(prefix, autoescape=True))
            .order_by(ProposalRow.id)
            .limit(limit)
        )
        with read_session(self.engine) as session:
            return [_record(r) for r in session.scalars(stmt)]

    def find_by_approval_task(self, gid: str) -> ProposalRecord | None:
        with read_session(self.engine) as session:
            row = session.scalars(select(ProposalRow).where(ProposalRow.approval_task_gid == gid)).first()
            return None if row is None else _record(row)

    @staticmethod
    def _proposal_for_update(session: Session, proposal_id: str) -> ProposalRow:
        row = session.get(ProposalRow, proposal_id, with_for_update=True)
        if row is None:
            raise KeyError(f"no proposal {proposal_id!r}")
        return row
