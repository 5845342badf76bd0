from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import Engine, exc, text

from agents.proposal import Decision, DecisionType, EditedAction, Proposal, idempotency_key
from graphs.ports import AuditRecord, LedgerEntry, LedgerStatus, ProposalRepository
from service.db import (
    DecisionConflictError,
    ProposalStatus,
    SqlApplyJournal,
    SqlAuditLog,
    SqlProposalRepository,
)


def test_runs(engine: Engine) -> None:
    repo: ProposalRepository = SqlProposalRepository(engine)
    repo.record_run("t-1", "planner", "schedule", {"project": "2"})
    repo.record_run("t-1", "planner", "webhook", {"other": True})  # redelivery: no-op
    repo.set_run_status("t-1", "interrupted", "waiting for approval")
    run = SqlProposalRepository(engine).get_run("t-1")
    assert run is not None
    assert (run.trigger, run.request, run.status, run.detail) == (
        "schedule",
        {"project": "2"},
        "interrupted",
        "waiting for approval",
    )
    assert run.updated_at >= run.created_at and run.created_at.tzinfo is not None
    assert SqlProposalRepository(engine).get_run("nope") is None
    assert [r.thread_id for r in SqlProposalRepository(engine).list_runs()] == ["t-1"]
    with pytest.raises(KeyError):
        repo.set_run_status("nope", "done")


def test_proposal_lifecycle(engine: Engine, make_proposal: Callable[..., Proposal]) -> None:
    repo = SqlProposalRepository(engine)
    p1, p2 = make_proposal(), make_proposal(title="Retro notes", agent="retro")
    repo.save_proposal("t-1", p1, "pending")
    repo.save_proposal("t-2", p2, "pending")
    repo.save_proposal("t-1", p1, "pending")  # a re-run node saves again: still one row

    detail = repo.get_proposal(p1.id)
    assert detail is not None
    assert detail.proposal == p1 and detail.digest == p1.digest() and detail.status is ProposalStatus.PENDING
    assert detail.decided_at is None and detail.decisions == [] and detail.ledger == []
    assert {p.id for p in repo.pending_approvals()} == {p1.id, p2.id}
    assert [p.id for p in repo.pending_approvals()][0] == p1.id  # oldest first

    repo.set_proposal_status(p1.id, "pending", approval_task_gid="777")
    found = repo.find_by_approval_task("777")
    assert found is not None and found.id == p1.id
    assert repo.find_by_approval_task("778") is None

    repo.set_proposal_status(p1.id, "approved")
    approved = repo.get_proposal(p1.id)
    assert (
        approved is not None
        and approved.status is ProposalStatus.APPROVED
        and approved.decided_at is not None
    )
    assert approved.approval_task_gid == "777"  # kept when not given again
    assert [p.id for p in repo.list_proposals(status="approved")] == [p1.id]
    assert [p.id for p in repo.pending_approvals()] == [p2.id]
    assert len(repo.list_proposals()) == 2

    repo.set_proposal_status(p1.id, "applied")
    applied = repo.get_proposal(p1.id)
    assert applied is not None and applied.decided_at == approved.decided_at  # first decision time kept

    with pytest.raises(ValueError):
        repo.set_proposal_status(p1.id, "done-ish")
    with pytest.raises(KeyError):
        repo.set_proposal_status("missing", "approved")
    assert repo.get_proposal("missing") is None


def test_status_check_constraint_in_database(engine: Engine, make_proposal: Callable[..., Proposal]) -> None:
    repo = SqlProposalRepository(engine)
    p = make_proposal()
    repo.save_proposal("t-1", p, "pending")
    with pytest.raises(exc.IntegrityError), engine.begin() as conn:
        conn.execute(text("UPDATE proposals SET status = 'bogus' WHERE id = :id"), {"id": p.id})


def test_decisions_and_ledger_in_detail(engine: Engine, make_proposal: Callable[..., Proposal]) -> None:
    repo = SqlProposalRepository(engine)
    p = make_proposal(n_actions=3)
    repo.save_proposal("t-1", p, "pending")
    decisions = [
        Decision(type=DecisionType.APPROVE),
        Decision(
            type=DecisionType.EDIT,
            edited_action=EditedAction(
                name="update_task", args={"target": "1001", "params": {"due_on": "2026-03-01"}}
            ),
        ),
        Decision(type=DecisionType.REJECT, message="not this sprint"),
    ]
    repo.save_decisions(p.id, decisions, "human:po@example.com")
    repo.save_decisions(p.id, decisions, "human:po@example.com")  # replayed resume: no-op
    with pytest.raises(DecisionConflictError):
        repo.save_decisions(p.id, [Decision(type=DecisionType.REJECT)], "human:other")
    with pytest.raises(KeyError):
        repo.save_decisions("missing", decisions, "x")

    journal = SqlApplyJournal(engine)
    key = idempotency_key("t-1", p.id, 0)
    journal.begin(
        LedgerEntry(
            key=key,
            thread_id="t-1",
            proposal_id=p.id,
            action_index=0,
            kind="update_task",
            target="1000",
            status=LedgerStatus.PENDING,
        )
    )
    journal.finish(
        key,
        LedgerStatus.DONE,
        {"ok": True},
        AuditRecord(actor="agent:planner", event="action.applied", outcome="ok", proposal_id=p.id),
    )

    detail = repo.get_proposal(p.id)
    assert detail is not None
    assert [(d.action_index, d.type) for d in detail.decisions] == [
        (0, "approve"),
        (1, "edit"),
        (2, "reject"),
    ]
    assert detail.decisions[1].edited_args == {"target": "1001", "params": {"due_on": "2026-03-01"}}
    assert detail.decisions[2].message == "not this sprint"
    assert detail.decisions[0].decided_by == "human:po@example.com"
    assert [(e.key, e.status) for e in detail.ledger] == [(key, LedgerStatus.DONE)]

    events = [r.event for r in SqlAuditLog(engine).rows(10, newest_first=False, proposal_id=p.id)]
    assert events == ["action.begin", "action.applied"]
    assert len(SqlAuditLog(engine).rows(1)) == 1
