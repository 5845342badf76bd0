"""The slices of the typed Asana client (tools.asana) that the graphs use, split by power.

`AsanaReads` is what specialists, scope checks, stale checks and probes may call; `AsanaWrites` is
what only the executor (through each kind's `ActionSpec.write`) calls. The composition root hands
specialists a `ReadOnlyAsana` view, so a write from a reader fails at run time too, not only in
mypy. `tools.asana.client.AsanaClient` satisfies both (its extra keyword arguments have defaults);
unit tests pass small in-memory fakes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any, Protocol

from tools.asana.field_map import FieldMap
from tools.asana.models import (
    Attachment,
    CustomFieldSetting,
    Goal,
    GoalRelationship,
    Portfolio,
    Project,
    Section,
    StatusUpdate,
    Story,
    Task,
    TaskCounts,
    Workspace,
)
from tools.asana.writes import PortfolioPrivacy


class AsanaReads(Protocol):
    def workspaces(self) -> list[Workspace]: ...

    def task(self, gid: str) -> Task: ...

    def field_map(self, project_gid: str) -> FieldMap: ...

    def custom_field_settings(self, project_gid: str) -> list[CustomFieldSetting]:
        """The project's field settings read now (uncached, unlike `field_map`)."""
        ...

    def projects(self, workspace_gid: str) -> list[Project]: ...

    def find_project(self, workspace_gid: str, name_or_gid: str) -> Project: ...

    def sections(self, project_gid: str) -> list[Section]: ...

    def project_tasks(self, project_gid: str) -> list[Task]: ...

    def subtasks(self, task_gid: str) -> list[Task]: ...

    def stories(self, task_gid: str) -> list[Story]: ...

    def status_updates(self, parent_gid: str) -> list[StatusUpdate]: ...

    def portfolio(self, gid: str) -> Portfolio: ...

    def portfolios(self, workspace_gid: str, owner_gid: str = "me") -> list[Portfolio]:
        """Portfolios of the workspace the owner (default: the token's user) owns or is a member of."""
        ...

    def portfolio_items(self, portfolio_gid: str) -> list[Project]: ...

    def portfolio_field_map(self, portfolio_gid: str) -> FieldMap: ...

    def project_with_fields(self, gid: str) -> Project: ...

    def attachments(self, parent_gid: str) -> list[Attachment]: ...

    def goals(self, workspace_gid: str) -> list[Goal]: ...

    def goals_supported_by(self, resource_gid: str, resource_type: str = "project") -> list[Goal]:
        """Goals a project (or portfolio, task) supports."""
        ...

    def goal(self, gid: str) -> Goal: ...

    def goal_relationships(self, goal_gid: str) -> list[GoalRelationship]: ...

    def task_counts(self, project_gid: str) -> TaskCounts:
        """How many tasks a project has (done and not): a goal's task-completion progress."""
        ...


class AsanaWrites(Protocol):
    """Only the executor holds this (RunContext.writes); nothing else in graphs/ or agents/ may."""

    def create_project(
        self,
        workspace_gid: str,
        name: str,
        *,
        team_gid: str | None = None,
        notes: str = "",
        start_on: date | None = None,
        due_on: date | None = None,
        owner_gid: str | None = None,
    ) -> Project: ...

    def create_section(self, project_gid: str, name: str) -> Section: ...

    def update_section(self, section_gid: str, name: str) -> Section: ...

    def add_custom_field_to_project(
        self, project_gid: str, custom_field_gid: str, *, important: bool = True
    ) -> None: ...

    def add_task_to_project(
        self, task_gid: str, project_gid: str, section_gid: str | None = None
    ) -> None: ...

    def add_task_to_section(self, section_gid: str, task_gid: str) -> None: ...

    def remove_task_from_project(self, task_gid: str, project_gid: str) -> None: ...

    def create_task(
        self,
        *,
        name: str,
        workspace_gid: str | None = None,
        projects: Iterable[str] | None = None,
        notes: str = "",
        assignee: str | None = None,
        due_on: date | None = None,
        due_at: datetime | None = None,
        resource_subtype: str | None = None,
        custom_fields: Mapping[str, Any] | None = None,
        parent_gid: str | None = None,
    ) -> Task: ...

    def update_task(self, task_gid: str, fields: Mapping[str, Any]) -> Task: ...

    def update_project_custom_fields(self, project_gid: str, custom_fields: Mapping[str, Any]) -> Project: ...

    def add_dependencies(self, task_gid: str, gids: Iterable[str]) -> None: ...

    def remove_dependencies(self, task_gid: str, gids: Iterable[str]) -> None: ...

    def add_comment(
        self, task_gid: str, text: str | None = None, *, html_text: str | None = None
    ) -> Story: ...

    def create_status_update(
        self, parent_gid: str, *, title: str, text: str, status_type: str, html_text: str | None = None
    ) -> StatusUpdate: ...

    def upload_attachment(
        self, parent_gid: str, filename: str, data: bytes, content_type: str
    ) -> Attachment: ...

    def delete_attachment(self, attachment_gid: str) -> None: ...

    def create_portfolio(
        self, workspace_gid: str, name: str, *, privacy_setting: PortfolioPrivacy | None = None
    ) -> Portfolio: ...

    def add_portfolio_item(self, portfolio_gid: str, project_gid: str) -> None: ...

    def add_supporting_relationship(
        self, goal_gid: str, resource_gid: str, *, contribution_weight: float | None = None
    ) -> GoalRelationship: ...


class AsanaPort(AsanaReads, AsanaWrites, Protocol):
    """Both halves: what the typed client offers and what test fakes implement."""


# The write half's method names, read from the protocol so the read-only view can never lag it.
WRITE_METHODS = frozenset(
    name for name, value in vars(AsanaWrites).items() if callable(value) and not name.startswith("_")
)


# Writes the executor never makes (webhooks, tags, deletes) are refused by their verb.
_WRITE_PREFIXES = ("create_", "update_", "delete_", "add_", "remove_", "set_", "upload_")


class WriteRefused(RuntimeError):
    """A reader (specialist, scope check, probe) tried to write to Asana."""


class ReadOnlyAsana:
    """The client as specialists see it: every read passes through, every write is refused."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        if name in WRITE_METHODS or name.startswith(_WRITE_PREFIXES):
            raise WriteRefused(f"{name} is a write; only the executor writes to Asana")
        return getattr(self._client, name)
