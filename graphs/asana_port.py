"""The slice of the typed Asana client (tools.asana) that the graphs call.

Written as a Protocol so the executor, the scope checks and the crash-window probes are typed
against exactly what they use, and unit tests can pass a small in-memory fake.
`tools.asana.client.AsanaClient` satisfies it (its extra keyword arguments all have defaults).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any, Protocol

from tools.asana.field_map import FieldMap
from tools.asana.models import Attachment, Portfolio, Project, Section, StatusUpdate, Story, Task


class AsanaPort(Protocol):
    # --- reads -------------------------------------------------------------------------------
    def task(self, gid: str) -> Task: ...

    def field_map(self, project_gid: str) -> FieldMap: ...

    def projects(self, workspace_gid: str) -> list[Project]: ...

    def sections(self, project_gid: str) -> list[Section]: ...

    def project_tasks(self, project_gid: str) -> list[Task]: ...

    def subtasks(self, task_gid: str) -> list[Task]: ...

    def stories(self, task_gid: str) -> list[Story]: ...

    def status_updates(self, parent_gid: str) -> list[StatusUpdate]: ...

    def portfolio(self, gid: str) -> Portfolio: ...

    def portfolio_items(self, portfolio_gid: str) -> list[Project]: ...

    def portfolio_field_map(self, portfolio_gid: str) -> FieldMap: ...

    def project_with_fields(self, gid: str) -> Project: ...

    def attachments(self, parent_gid: str) -> list[Attachment]: ...

    # --- writes (only the executor calls these) ---------------------------------------------
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

    def add_task_to_project(
        self, task_gid: str, project_gid: str, section_gid: str | None = None
    ) -> None: ...

    def add_task_to_section(self, section_gid: str, task_gid: str) -> None: ...

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

    def add_comment(self, task_gid: str, text: str) -> Story: ...

    def create_status_update(
        self, parent_gid: str, *, title: str, text: str, status_type: str
    ) -> StatusUpdate: ...

    def upload_attachment(
        self, parent_gid: str, filename: str, data: bytes, content_type: str
    ) -> Attachment: ...
