"""What the graphs need from the outside world, as protocols.

The composition root (service/) passes concrete implementations (SQLAlchemy-backed journal and
audit log, the typed Asana client) through the graph's runtime context; tests pass in-memory
ones. Keeping these narrow is what lets graphs/ stay free of service/ imports.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from pydantic import BaseModel, Field

from agents.proposal import Decision, Proposal


class LedgerStatus(StrEnum):
    PENDING = "pending"  # recorded before the Asana call; the call may or may not have happened
    DONE = "done"
    CONFLICT = "conflict"  # stale check failed: Asana changed since the proposal; not written
    REJECTED = "rejected"  # a human rejected this action
    FAILED = "failed"  # a non-retryable error from Asana
    DENIED = "denied"  # policy refused it


def wrote_to_asana(result: dict[str, Any] | None) -> bool:
    """Whether a DONE outcome reached Asana (not "already up to date" or a skipped repeat)."""
    return bool((result or {}).get("recovered")) or (result or {}).get("message") == "applied"


class LedgerEntry(BaseModel):
    key: str
    thread_id: str
    proposal_id: str
    action_index: int
    kind: str
    target: str | None = None
    status: LedgerStatus
    result: dict[str, Any] | None = None
    attempts: int = 0
    updated_at: datetime | None = None
    # What the write states (graphs/repeats.fact_key), so a later run can tell it was applied.
    fact_key: str | None = None
    # For an automatic write: the project whose daily write budget it counts against (None for
    # changes a human approved, which the budget never holds back).
    budget_project: str | None = None


class AuditRecord(BaseModel):
    """One audited event (NIST AU-3: what, when, where, who, outcome)."""

    actor: str  # "agent:planner", "human:<user>", "system"
    event: str  # e.g. "proposal.created", "decision.approve", "action.applied", "action.conflict"
    outcome: str  # "ok", "conflict", "rejected", "failed", "denied"
    thread_id: str | None = None
    proposal_id: str | None = None
    action_index: int | None = None
    idempotency_key: str | None = None
    target: str | None = None
    before: Any = None
    after: Any = None
    reason: str | None = None
    model: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)


class ApplyJournal(Protocol):
    """Action ledger + audit log; `begin`/`finish` each commit in one transaction with their audit row."""

    def get(self, key: str) -> LedgerEntry | None: ...

    def begin(self, entry: LedgerEntry) -> LedgerEntry:
        """Insert `entry` as PENDING unless the key exists; return the stored entry (attempts +1)."""
        ...

    def finish(
        self, key: str, status: LedgerStatus, result: dict[str, Any] | None, audit: AuditRecord
    ) -> None:
        """Record the outcome of one action and its audit row atomically."""
        ...

    def applied_fact(self, fact_key: str, *, other_than: str) -> LedgerEntry | None:
        """The newest DONE entry that stated these facts, of a proposal other than `other_than`."""
        ...

    def done_since(self, project_gid: str, since: datetime) -> int:
        """How many automatic writes counted against `project_gid`'s budget reached Asana since
        `since` (no-ops such as "already up to date" or a skipped repeat are not writes)."""
        ...


class AuditLog(Protocol):
    def append(self, record: AuditRecord) -> str:
        """Append one row to the hash-chained log; returns the row's hash."""
        ...


# Proposal statuses that still stand (waiting, approved, applying, applied): a newer proposal in
# one of them makes an older one about the same subject stale (graphs/gate.py).
STILL_COUNTING = frozenset(
    {"pending", "approved", "partially_approved", "applying", "applied", "partially_applied", "conflict"}
)


def replaces(status: str, decided_by_a_person: bool) -> bool:
    """Whether a newer proposal in `status` replaces an older one about the same subject: it
    waits, or a person decided it and it still stands (a newer run applied without approval
    did not hold the waiting one's approval-needing changes)."""
    return status in STILL_COUNTING and (status == "pending" or decided_by_a_person)


class ProposalRepository(Protocol):
    """Runs, proposals and decisions as the CLI/API list them."""

    def record_run(self, thread_id: str, agent: str, trigger: str, request: dict[str, Any]) -> None: ...

    def set_run_status(self, thread_id: str, status: str, detail: str | None = None) -> None: ...

    def save_proposal(self, thread_id: str, proposal: Proposal, status: str) -> None: ...

    def set_proposal_status(
        self, proposal_id: str, status: str, approval_task_gid: str | None = None
    ) -> None: ...

    def save_decisions(self, proposal_id: str, decisions: list[Decision], decided_by: str) -> None: ...

    def waiting_about(self, agent: str, workspace_gid: str, subject: str) -> list[Proposal]:
        """Proposals of `agent` about `subject` still waiting for a decision, oldest first."""
        ...

    def newer_about(self, proposal: Proposal) -> list[tuple[str, str]]:
        """(id, status) of the proposals about `proposal`'s subject made after it that still count:
        waiting, approved, being applied or applied (not rejected, closed or failed)."""
        ...
