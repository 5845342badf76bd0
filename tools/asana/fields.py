"""The one place that decides which opt_fields each read asks for.

Asana returns compact records by default; anything else must be named in `opt_fields` (a
comma-separated string of dotted paths, gid always included). Asking for exactly what a use needs
keeps every project read at one call per 100 tasks: no follow-up per-task fetches.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum


def _prefixed(prefix: str, names: Iterable[str]) -> tuple[str, ...]:
    return tuple(f"{prefix}.{n}" for n in names)


def join(fields: Iterable[str]) -> str:
    """The opt_fields query value: unique paths in a stable order, comma-joined."""
    return ",".join(dict.fromkeys(fields))


# What a task's custom field values need so `Task.field()` can type them and show display_value.
CUSTOM_FIELD_VALUE = _prefixed(
    "custom_fields",
    (
        "gid",
        "name",
        "type",
        "resource_subtype",
        "display_value",
        "number_value",
        "text_value",
        "enum_value.name",
        "enum_value.gid",
        "multi_enum_values.name",
        "date_value",
        "people_value.name",
        "precision",
    ),
)

_TASK_COMPACT = ("name", "resource_subtype", "completed")

_TASK_PLANNING = (
    "name",
    "notes",
    "assignee.name",
    "completed",
    "completed_at",
    "created_at",
    "due_on",
    "start_on",
    "tags.name",
    "memberships.project.name",
    "memberships.section.name",
    "dependencies",
    "dependents",
    *CUSTOM_FIELD_VALUE,
    "num_subtasks",
    "permalink_url",
    "resource_subtype",
    "approval_status",
    "modified_at",
    "parent",
)

# Everything about one task apart from its stories (those are a separate, paginated read).
_TASK_DETAIL = (
    *_TASK_PLANNING,
    "parent.name",
    "assignee.email",
    "due_at",
    "start_at",
    "projects.name",
    "followers.name",
    "created_by.name",
    "completed_by.name",
    "html_notes",
    "workspace.name",
    "dependencies.name",
    "dependents.name",
)


class TaskView(Enum):
    """Named task projections; `.opt_fields` is the query value."""

    COMPACT = _TASK_COMPACT
    PLANNING = _TASK_PLANNING
    # The planning view plus each dependency's completion and name: the stand-up's read, and the
    # dependency manager's, so one read of a sprint serves both in one handling (issue 23).
    STANDUP = (*_TASK_PLANNING, "dependencies.completed", "dependencies.name")
    DETAIL = _TASK_DETAIL

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(self.value)

    @property
    def opt_fields(self) -> str:
        return join(self.value)


WORKSPACE = join(("name", "is_organization", "email_domains"))
USER = join(("name", "email"))
ME = join(("name", "email", "workspaces.name"))
TEAM = join(("name", "description", "organization.name"))
PROJECT = join(
    (
        "name",
        "notes",
        "archived",
        "completed",
        "color",
        "created_at",
        "modified_at",
        "start_on",
        "due_on",
        "owner.name",
        "team.name",
        "workspace.name",
        "permalink_url",
    )
)
# Who may see a project (graphs/visibility.py mirrors Asana's privacy rules from these).
PROJECT_ACCESS = join(("name", "archived", "privacy_setting", "team", "owner", "members"))
SECTION = join(("name", "project.name", "created_at"))
CUSTOM_FIELD = join(
    (
        "name",
        "type",
        "resource_subtype",
        "precision",
        "description",
        "is_formula_field",
        "enum_options.name",
        "enum_options.enabled",
        "enum_options.color",
    )
)
CUSTOM_FIELD_SETTING = join(
    (
        "is_important",
        "project.name",
        "parent.name",
        *_prefixed(
            "custom_field",
            (
                "name",
                "type",
                "resource_subtype",
                "precision",
                "is_formula_field",
                "enum_options.name",
                "enum_options.enabled",
                "enum_options.color",
            ),
        ),
    )
)
TASK_COUNTS = join(
    (
        "num_tasks",
        "num_completed_tasks",
        "num_incomplete_tasks",
        "num_milestones",
        "num_completed_milestones",
        "num_incomplete_milestones",
    )
)
STORY = join(
    (
        "type",
        "resource_subtype",
        "text",
        "created_at",
        "created_by.name",
        "source",
        "target.name",
        "old_name",
        "new_name",
        "old_section.name",
        "new_section.name",
        "assignee.name",
        "project.name",
        "tag.name",
        "dependency.name",
        "custom_field.name",
        "custom_field.resource_subtype",
        "old_text_value",
        "new_text_value",
        "old_number_value",
        "new_number_value",
        "old_enum_value.name",
        "new_enum_value.name",
        "old_multi_enum_values.name",
        "new_multi_enum_values.name",
        "old_people_value.name",
        "new_people_value.name",
        "old_date_value",
        "new_date_value",
        "old_dates",
        "new_dates",
        "old_approval_status",
        "new_approval_status",
    )
)
STATUS_UPDATE = join(
    (
        "title",
        "text",
        "status_type",
        "resource_subtype",
        "author.name",
        "created_by.name",
        "created_at",
        "modified_at",
        "parent.name",
    )
)
PORTFOLIO = join(("name", "owner.name", "workspace.name", "start_on", "due_on", "color", "permalink_url"))
PORTFOLIO_ITEM = join(("name", "archived", "completed", "start_on", "due_on", "owner.name", "team.name"))
# A project with its own custom field values (the fields of the portfolios holding it).
PROJECT_CUSTOM_FIELDS = join((*PROJECT.split(","), *CUSTOM_FIELD_VALUE))
PORTFOLIO_ITEM_CUSTOM_FIELDS = join((*PORTFOLIO_ITEM.split(","), *CUSTOM_FIELD_VALUE))
ATTACHMENT = join(
    (
        "name",
        "resource_subtype",
        "host",
        "size",
        "created_at",
        "download_url",
        "view_url",
        "permanent_url",
        "parent.name",
    )
)
TAG = join(("name", "color", "workspace.name"))
WEBHOOK = join(
    (
        "resource.name",
        "target",
        "active",
        "created_at",
        "last_success_at",
        "last_failure_at",
        "last_failure_content",
        "filters",
    )
)
# Goals: lists carry what the visibility check needs; one goal adds its metric (asana_oas.yaml
# GoalResponse, GoalMetricBase, GoalRelationshipBase).
GOAL_LISTED = join(("name", "owner.name", "privacy_setting", "followers", "workspace", "status"))
GOAL = join(
    (
        *GOAL_LISTED.split(","),
        "due_on",
        "start_on",
        "team.name",
        "is_workspace_level",
        *_prefixed(
            "metric",
            (
                "unit",
                "precision",
                "currency_code",
                "initial_number_value",
                "target_number_value",
                "current_number_value",
                "current_display_value",
                "progress_source",
                "is_custom_weight",
            ),
        ),
    )
)
GOAL_RELATIONSHIP = join(
    (
        "resource_subtype",
        "supporting_resource.name",
        "supporting_resource.resource_type",
        "supported_goal.name",
        "contribution_weight",
    )
)
