"""Run-scoped dependencies handed to every node through LangGraph's `context_schema`.

The composition root (service/, tests, evals) builds one RunContext per invocation from the
process-lived parts it already holds (clients, repositories, the language engine); building one
is cheap and does no I/O. Nothing in graphs/ creates a client, connection or model itself. The
context is not checkpointed, so a resumed run (new process, same thread id) simply passes a
fresh one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from langgraph.config import get_config

from graphs.asana_port import AsanaReads, AsanaWrites
from graphs.policy_config import PolicyConfig
from graphs.ports import ApplyJournal, AuditLog, ProposalRepository
from graphs.scope import ScopeChecker
from graphs.visibility import Viewer
from tools.errors import ConfigError, UserError
from tools.feedback.models import FeedbackSource

if TYPE_CHECKING:
    from graphs.registry import SpecialistRegistry
    from tools.llm.engine import LanguageEngine


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class RunContext:
    # What specialists and checks read through (a read-only view in production).
    asana: AsanaReads
    # Only the executor writes, through each action kind's spec.
    writes: AsanaWrites
    journal: ApplyJournal
    repo: ProposalRepository
    audit: AuditLog
    registry: SpecialistRegistry
    # Offline templates or a model; every proposal says which wrote it.
    language: LanguageEngine
    # The policy of a workspace without its own overrides (and the global comment tag etc.).
    policy: PolicyConfig = field(default_factory=PolicyConfig)
    # Per-workspace policies (overrides applied); see `policy_for`.
    policies: Mapping[str, PolicyConfig] = field(default_factory=dict)
    allowed_workspace_gids: frozenset[str] = frozenset()
    # Empty means "any project of an allowed workspace".
    allowed_project_gids: frozenset[str] = frozenset()
    # The first allowed workspace in the order configured (frozensets lose that order).
    default_workspace_gid: str | None = None
    approver_gid: str | None = None
    approval_due_hours: float = 24.0
    now: Callable[[], datetime] = utc_now
    actor: str = "sprintpilot"
    # The Asana user a chat/API/console/MCP run acts for: `asana` is then limited to what they
    # can see (graphs/visibility.py) and so is every scope check. None: the service's own runs.
    viewer: Viewer | None = None
    # What people told sprintpilot it got wrong (service/db/feedback.py); None: no feedback store.
    feedback: FeedbackSource | None = None

    def policy_for(self, workspace_gid: str | None) -> PolicyConfig:
        """The policy that judges actions in `workspace_gid` (its per-workspace overrides applied)."""
        return self.policies.get(workspace_gid or "", self.policy)

    def scope_checker(self) -> ScopeChecker:
        """The run's scope check: allowed workspaces/projects, and what its viewer can see."""
        return ScopeChecker(self.asana, self.allowed_workspace_gids, self.allowed_project_gids, self.viewer)

    def resolve_workspace(self, explicit: str | None = None) -> str:
        """The workspace a run works in: the one asked for, else the first allowed (as configured),
        else the first the token sees. The one place every agent and command decides this."""
        if explicit:
            if self.allowed_workspace_gids and explicit not in self.allowed_workspace_gids:
                raise UserError(f"workspace {explicit} is not one of the allowed workspaces")
            return explicit
        if self.default_workspace_gid:
            return self.default_workspace_gid
        if self.allowed_workspace_gids:
            return sorted(self.allowed_workspace_gids)[0]
        workspaces = self.asana.workspaces()
        if not workspaces:
            raise ConfigError("the Asana token sees no workspace")
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
