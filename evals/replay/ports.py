"""In-memory graph ports for replays: ledger, hash-chained audit and a proposal store that keeps
every proposal so scorers can read what the agents proposed. Nothing outlives the replay."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from agents.proposal import Decision, Proposal
from graphs.ports import AuditRecord, LedgerEntry, LedgerStatus, replaces, wrote_to_asana


class ReplayAudit:
    def __init__(self) -> None:
        self.records: list[AuditRecord] = []
        self._head = "0" * 64

    def append(self, record: AuditRecord) -> str:
        raw = json.dumps(record.model_dump(mode="json"), sort_keys=True)
        self._head = hashlib.sha256((self._head + raw).encode()).hexdigest()
        self.records.append(record)
        return self._head


class ReplayJournal:
    def __init__(self, audit: ReplayAudit) -> None:
        self.entries: dict[str, LedgerEntry] = {}
        self.audit = audit

    def get(self, key: str) -> LedgerEntry | None:
        entry = self.entries.get(key)
        return entry.model_copy() if entry else None

    def begin(self, entry: LedgerEntry) -> LedgerEntry:
        stored = self.entries.get(entry.key)
        if stored is None:
            stored = entry.model_copy(update={"status": LedgerStatus.PENDING, "attempts": 1})
        else:
            stored = stored.model_copy(update={"attempts": stored.attempts + 1})
        self.entries[entry.key] = stored
        return stored.model_copy()

    def finish(
        self, key: str, status: LedgerStatus, result: dict[str, Any] | None, audit: AuditRecord
    ) -> None:
        self.entries[key] = self.entries[key].model_copy(
            update={"status": status, "result": result, "updated_at": datetime.now(UTC)}
        )
        self.audit.append(audit)

    def applied_fact(self, fact_key: str, *, other_than: str) -> LedgerEntry | None:
        done = [
            e
            for e in self.entries.values()
            if e.fact_key == fact_key and e.status == LedgerStatus.DONE and e.proposal_id != other_than
        ]
        return done[-1].model_copy() if done else None

    def done_since(self, project_gid: str, since: datetime) -> int:
        return sum(
            1
            for e in self.entries.values()
            if e.budget_project == project_gid
            and e.status == LedgerStatus.DONE
            and wrote_to_asana(e.result)
            and e.updated_at is not None
            and e.updated_at >= since
        )

    def count(self, status: LedgerStatus) -> int:
        return sum(1 for e in self.entries.values() if e.status == status)


class ReplayRepo:
    def __init__(self) -> None:
        self.runs: dict[str, dict[str, Any]] = {}
        self.proposals: dict[str, Proposal] = {}
        self.by_thread: dict[str, str] = {}
        self.statuses: dict[str, str] = {}
        self.decided: set[str] = set()  # proposals a person decided (save_decisions)

    def record_run(self, thread_id: str, agent: str, trigger: str, request: dict[str, Any]) -> None:
        self.runs[thread_id] = {"agent": agent, "trigger": trigger, "status": "started"}

    def set_run_status(self, thread_id: str, status: str, detail: str | None = None) -> None:
        self.runs.setdefault(thread_id, {})["status"] = status

    def save_proposal(self, thread_id: str, proposal: Proposal, status: str) -> None:
        self.proposals[proposal.id] = proposal
        self.by_thread[thread_id] = proposal.id
        self.statuses[proposal.id] = status

    def set_proposal_status(
        self, proposal_id: str, status: str, approval_task_gid: str | None = None
    ) -> None:
        self.statuses[proposal_id] = status

    def save_decisions(self, proposal_id: str, decisions: list[Decision], decided_by: str) -> None:
        self.decided.add(proposal_id)

    def waiting_about(self, agent: str, workspace_gid: str, subject: str) -> list[Proposal]:
        return [
            p
            for pid, p in self.proposals.items()
            if self.statuses.get(pid) == "pending"
            and (p.agent, p.scope.workspace_gid, p.subject) == (agent, workspace_gid, subject)
        ]

    def newer_about(self, proposal: Proposal) -> list[tuple[str, str]]:
        key = (proposal.agent, proposal.scope.workspace_gid, proposal.subject)
        return [
            (pid, self.statuses.get(pid, ""))
            for pid, p in self.proposals.items()
            if replaces(self.statuses.get(pid, ""), pid in self.decided)
            and (p.agent, p.scope.workspace_gid, p.subject) == key
            and p.created_at > proposal.created_at
        ]

    def proposal_of(self, thread_id: str) -> Proposal | None:
        pid = self.by_thread.get(thread_id)
        return self.proposals.get(pid) if pid else None
