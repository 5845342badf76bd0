"""Run-scoped dependencies handed to every node through LangGraph's `context_schema`.

The composition root (service/, tests, evals) builds one RunContext per invocation; nothing in
graphs/ creates a client, connection or model itself. The context is not checkpointed, so a
resumed run (new process, same thread id) simply passes a fresh one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from langgraph.config import get_config

from graphs.asana_port import AsanaPort
from graphs.policy_config import PolicyConfig
from graphs.ports import ApplyJournal, AuditLog, ProposalRepository

if TYPE_CHECKING:
    from graphs.registry import SpecialistRegistry
    from tools.llm.engine import LanguageEngine


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class RunContext:
    asana: AsanaPort
    journal: ApplyJournal
    repo: ProposalRepository
    audit: AuditLog
    registry: SpecialistRegistry
    language: LanguageEngine | None = None
    policy: PolicyConfig = field(default_factory=PolicyConfig)
    allowed_workspace_gids: frozenset[str] = frozenset()
    # Empty means "any project of an allowed workspace".
    allowed_project_gids: frozenset[str] = frozenset()
    approver_gid: str | None = None
    approval_due_hours: float = 24.0
    now: Callable[[], datetime] = utc_now
    actor: str = "sprintpilot"

    def default_workspace(self, explicit: str | None = None) -> str:
        """The workspace a run works in: the one asked for, else the first allowed, else the first
        the token sees."""
        if explicit:
            return explicit
        if self.allowed_workspace_gids:
            return sorted(self.allowed_workspace_gids)[0]
        workspaces = self.asana.workspaces()  # type: ignore[attr-defined]
        if not workspaces:
            raise ValueError("the Asana token sees no workspace")
        return str(workspaces[0].gid)

    def __post_init__(self) -> None:
        # Accept any iterable of gids from callers but keep immutable sets inside.
        self.allowed_workspace_gids = frozenset(self.allowed_workspace_gids)
        self.allowed_project_gids = frozenset(self.allowed_project_gids)


def current_thread_id() -> str:
    """The checkpointer thread id of the run executing the calling node."""
    thread_id = (get_config().get("configurable") or {}).get("thread_id")
    if not thread_id:
        raise ValueError("the graph must be invoked with config={'configurable': {'thread_id': ...}}")
    return str(thread_id)
