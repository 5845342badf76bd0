"""A read-only view of an AsanaClient, for agents that must never write (stand-up, retro, ...).

Only the names in READ_METHODS are reachable; anything else raises AttributeError, so a reader
agent handed this object cannot call a write even by mistake or under prompt injection.
"""

from __future__ import annotations

from typing import Any

from tools.asana.client import AsanaClient

READ_METHODS = frozenset(
    {
        "me", "workspaces", "users", "teams", "tags", "custom_fields", "projects", "project", "find_project",
        "sections", "custom_field_settings", "field_map", "task_counts", "project_tasks", "section_tasks",
        "task", "subtasks", "stories", "stories_many", "status_updates", "portfolios", "portfolio",
        "portfolio_items", "attachments", "webhooks", "events", "events_start", "calls",
        "goals", "goals_supported_by", "goal", "goal_relationships",
    }
)  # fmt: skip


class ReadOnlyAsana:
    def __init__(self, client: AsanaClient) -> None:
        object.__setattr__(self, "_client", client)

    def __getattr__(self, name: str) -> Any:
        if name not in READ_METHODS:
            raise AttributeError(f"{name!r} is not available on a read-only Asana client")
        return getattr(self._client, name)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("a read-only Asana client cannot be modified")

    def __repr__(self) -> str:
        return f"ReadOnlyAsana({self._client!r})"
