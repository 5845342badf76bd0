"""Pydantic models of the Asana resources sprintpilot reads and writes.

Models accept extra fields (Asana adds fields over time, and opt_fields decides what is present),
and every field is optional apart from `gid`: which ones are filled depends on the view that
fetched the object (see fields.py).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class AsanaModel(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class Ref(AsanaModel):
    """A compact reference to any Asana object ({gid, resource_type, name?})."""

    gid: str
    resource_type: str | None = None
    name: str | None = None


class Workspace(AsanaModel):
    gid: str
    name: str | None = None
    is_organization: bool | None = None
    email_domains: list[str] = Field(default_factory=list)


class User(AsanaModel):
    gid: str
    name: str | None = None
    email: str | None = None
    workspaces: list[Ref] = Field(default_factory=list)


class Team(AsanaModel):
    gid: str
    name: str | None = None
    description: str | None = None
    organization: Ref | None = None


def find_custom_field(values: list[CustomFieldValue], name: str) -> CustomFieldValue | None:
    """A custom field entry by exact name, else case-insensitively (tasks and projects alike)."""
    exact = next((cf for cf in values if cf.name == name), None)
    folded = name.casefold()
    return exact or next((cf for cf in values if cf.name and cf.name.casefold() == folded), None)


class Project(AsanaModel):
    gid: str
    name: str | None = None
    notes: str | None = None
    archived: bool | None = None
    completed: bool | None = None
    color: str | None = None
    created_at: dt.datetime | None = None
    modified_at: dt.datetime | None = None
    start_on: dt.date | None = None
    due_on: dt.date | None = None
    owner: Ref | None = None
    team: Ref | None = None
    workspace: Ref | None = None
    members: list[Ref] = Field(default_factory=list)
    # public_to_workspace | private_to_team | private (read only by the visibility check).
    privacy_setting: str | None = None
    permalink_url: str | None = None
    # The project's own values (fields of the portfolios holding it); only read by views that ask.
    custom_fields: list[CustomFieldValue] = Field(default_factory=list)

    def custom_field(self, name: str) -> CustomFieldValue | None:
        """The project's entry for a custom field, by exact name (then case-insensitively)."""
        return find_custom_field(self.custom_fields, name)

    def field(self, name: str) -> Any:
        """Typed value of a project custom field (None when unset or not on the project)."""
        cf = self.custom_field(name)
        return cf.value if cf else None


class Section(AsanaModel):
    gid: str
    name: str | None = None
    project: Ref | None = None
    created_at: dt.datetime | None = None


class EnumOption(AsanaModel):
    gid: str
    name: str | None = None
    enabled: bool | None = True
    color: str | None = None


class DateValue(AsanaModel):
    date: dt.date | None = None
    date_time: dt.datetime | None = None


class CustomField(AsanaModel):
    """A custom field definition (what a project's custom field setting points to)."""

    gid: str
    name: str | None = None
    type: str | None = None
    resource_subtype: str | None = None
    precision: int | None = None
    enum_options: list[EnumOption] = Field(default_factory=list)
    description: str | None = None
    is_formula_field: bool | None = None

    @property
    def kind(self) -> str:
        """The field's value type (`resource_subtype` is authoritative; `type` is the older name)."""
        return self.resource_subtype or self.type or "text"


class CustomFieldValue(CustomField):
    """A custom field as it appears on a task: the definition plus the task's value."""

    display_value: str | None = None
    number_value: float | None = None
    text_value: str | None = None
    enum_value: EnumOption | None = None
    multi_enum_values: list[EnumOption] = Field(default_factory=list)
    date_value: DateValue | None = None
    people_value: list[Ref] = Field(default_factory=list)

    @property
    def value(self) -> Any:
        """Typed value: number (int when precision 0), str, enum option name, list, or date."""
        kind = self.kind
        if kind == "number":
            if self.number_value is None:
                return None
            if (self.precision or 0) == 0 and float(self.number_value).is_integer():
                return int(self.number_value)
            return self.number_value
        if kind == "enum":
            return self.enum_value.name if self.enum_value else None
        if kind == "multi_enum":
            return [o.name for o in self.multi_enum_values]
        if kind == "date":
            return self.date_value.date if self.date_value else None
        if kind == "people":
            return [p.name or p.gid for p in self.people_value]
        return self.text_value

    @property
    def display(self) -> str | None:
        """Asana's display_value when fetched, else a rendering of the typed value."""
        if self.display_value is not None:
            return self.display_value
        value = self.value
        if value is None or value == []:
            return None
        if isinstance(value, list):
            return ", ".join(str(v) for v in value)
        return str(value)


class CustomFieldSetting(AsanaModel):
    gid: str
    is_important: bool | None = None
    project: Ref | None = None
    parent: Ref | None = None
    custom_field: CustomField


class Membership(AsanaModel):
    project: Ref | None = None
    section: Ref | None = None


class Task(AsanaModel):
    gid: str
    name: str | None = None
    notes: str | None = None
    html_notes: str | None = None
    resource_subtype: str | None = None
    approval_status: str | None = None
    assignee: Ref | None = None
    completed: bool | None = None
    completed_at: dt.datetime | None = None
    created_at: dt.datetime | None = None
    modified_at: dt.datetime | None = None
    due_on: dt.date | None = None
    due_at: dt.datetime | None = None
    start_on: dt.date | None = None
    parent: Ref | None = None
    workspace: Ref | None = None
    memberships: list[Membership] = Field(default_factory=list)
    projects: list[Ref] = Field(default_factory=list)
    tags: list[Ref] = Field(default_factory=list)
    dependencies: list[Ref] = Field(default_factory=list)
    dependents: list[Ref] = Field(default_factory=list)
    num_subtasks: int | None = None
    custom_fields: list[CustomFieldValue] = Field(default_factory=list)
    permalink_url: str | None = None

    def custom_field(self, name: str) -> CustomFieldValue | None:
        """The task's entry for a custom field, by exact name (then case-insensitively)."""
        return find_custom_field(self.custom_fields, name)

    def has_field(self, name: str) -> bool:
        return self.custom_field(name) is not None

    def field(self, name: str) -> Any:
        """Typed value of a custom field (None when unset or not on the task)."""
        cf = self.custom_field(name)
        return cf.value if cf else None

    def number(self, name: str) -> float | None:
        """A custom field read as a number: None when unset, not on the task, or not numeric."""
        value = self.field(name)
        if value is None or isinstance(value, bool):
            return None
        try:
            return float(value)
        except (TypeError, ValueError):
            return None

    def text(self, name: str) -> str | None:
        """A custom field's typed value as a string (None when unset or not on the task)."""
        value = self.field(name)
        return None if value is None else str(value)

    def display(self, name: str) -> str | None:
        """Asana's display string of a custom field (None when unset or not on the task)."""
        cf = self.custom_field(name)
        return cf.display if cf else None

    def section_in(self, project_gid: str) -> Ref | None:
        """The section this task sits in within a given project (None if not a member)."""
        for m in self.memberships:
            if m.project and m.project.gid == project_gid:
                return m.section
        return None

    @property
    def tag_names(self) -> list[str]:
        return [t.name for t in self.tags if t.name]

    @property
    def dependency_gids(self) -> list[str]:
        return [d.gid for d in self.dependencies]

    @property
    def dependent_gids(self) -> list[str]:
        return [d.gid for d in self.dependents]


class Story(AsanaModel):
    gid: str
    type: str | None = None
    resource_subtype: str | None = None
    text: str | None = None
    html_text: str | None = None
    created_at: dt.datetime | None = None
    created_by: Ref | None = None
    source: str | None = None
    target: Ref | None = None
    # Structured change details: present only on the matching system story subtypes.
    old_name: str | None = None
    new_name: str | None = None
    old_section: Ref | None = None
    new_section: Ref | None = None
    assignee: Ref | None = None
    project: Ref | None = None
    tag: Ref | None = None
    dependency: Ref | None = None
    custom_field: CustomField | None = None
    old_text_value: str | None = None
    new_text_value: str | None = None
    old_number_value: float | None = None
    new_number_value: float | None = None
    old_enum_value: EnumOption | None = None
    new_enum_value: EnumOption | None = None
    old_multi_enum_values: list[EnumOption] | None = None
    new_multi_enum_values: list[EnumOption] | None = None
    old_people_value: list[Ref] | None = None
    new_people_value: list[Ref] | None = None
    old_date_value: DateValue | None = None
    new_date_value: DateValue | None = None
    old_dates: dict[str, Any] | None = None
    new_dates: dict[str, Any] | None = None
    old_approval_status: str | None = None
    new_approval_status: str | None = None

    @property
    def is_comment(self) -> bool:
        return self.type == "comment" or self.resource_subtype == "comment_added"


class StatusUpdate(AsanaModel):
    gid: str
    title: str | None = None
    text: str | None = None
    html_text: str | None = None
    status_type: str | None = None
    resource_subtype: str | None = None
    author: Ref | None = None
    created_by: Ref | None = None
    created_at: dt.datetime | None = None
    modified_at: dt.datetime | None = None
    parent: Ref | None = None


class Portfolio(AsanaModel):
    gid: str
    name: str | None = None
    owner: Ref | None = None
    workspace: Ref | None = None
    start_on: dt.date | None = None
    due_on: dt.date | None = None
    color: str | None = None
    permalink_url: str | None = None


class Attachment(AsanaModel):
    gid: str
    name: str | None = None
    resource_subtype: str | None = None
    host: str | None = None
    size: int | None = None
    created_at: dt.datetime | None = None
    download_url: str | None = None
    view_url: str | None = None
    permanent_url: str | None = None
    parent: Ref | None = None


class Tag(AsanaModel):
    gid: str
    name: str | None = None
    color: str | None = None
    workspace: Ref | None = None


class TaskCounts(AsanaModel):
    num_tasks: int | None = None
    num_completed_tasks: int | None = None
    num_incomplete_tasks: int | None = None
    num_milestones: int | None = None
    num_completed_milestones: int | None = None
    num_incomplete_milestones: int | None = None


class WebhookFilter(AsanaModel):
    resource_type: str | None = None
    resource_subtype: str | None = None
    action: str | None = None
    fields: list[str] | None = None


class Webhook(AsanaModel):
    gid: str
    resource: Ref | None = None
    target: str | None = None
    active: bool | None = None
    created_at: dt.datetime | None = None
    last_success_at: dt.datetime | None = None
    last_failure_at: dt.datetime | None = None
    last_failure_content: str | None = None
    filters: list[WebhookFilter] = Field(default_factory=list)


class EventChange(AsanaModel):
    field: str | None = None
    action: str | None = None
    new_value: Any = None
    added_value: Any = None
    removed_value: Any = None


class Event(AsanaModel):
    action: str | None = None
    created_at: dt.datetime | None = None
    user: Ref | None = None
    resource: Ref | None = None
    parent: Ref | None = None
    type: str | None = None
    change: EventChange | None = None


class EventsPage(AsanaModel):
    events: list[Event] = Field(default_factory=list)
    sync: str
    has_more: bool = False


class GoalMetric(AsanaModel):
    """A goal's number metric (asana_oas.yaml GoalMetricBase); automatic sources are fractions."""

    unit: str | None = None
    precision: int | None = None
    currency_code: str | None = None
    initial_number_value: float | None = None
    target_number_value: float | None = None
    current_number_value: float | None = None
    current_display_value: str | None = None
    # manual | subgoal_progress | project_task_completion | project_milestone_completion |
    # task_completion | external
    progress_source: str | None = None
    is_custom_weight: bool | None = None

    @property
    def progress(self) -> float | None:
        """Where the current value sits between the initial and the target value, 0..1."""
        start, end = self.initial_number_value or 0.0, self.target_number_value
        now = self.current_number_value
        if end is None or now is None or end == start:
            return None
        return max(0.0, min(1.0, (now - start) / (end - start)))


class Goal(AsanaModel):
    gid: str
    name: str | None = None
    notes: str | None = None
    due_on: dt.date | None = None
    start_on: dt.date | None = None
    # green | yellow | red while open; missed | achieved | partial | dropped once closed.
    status: str | None = None
    owner: Ref | None = None
    team: Ref | None = None
    workspace: Ref | None = None
    followers: list[Ref] = Field(default_factory=list)
    # public_to_workspace | members_only (read by the visibility check).
    privacy_setting: str | None = None
    is_workspace_level: bool | None = None
    metric: GoalMetric | None = None


class GoalRelationship(AsanaModel):
    """A resource supporting a goal: a project, portfolio or task (supporting_work) or a goal (subgoal)."""

    gid: str
    resource_subtype: str | None = None
    supporting_resource: Ref | None = None
    supported_goal: Ref | None = None
    contribution_weight: float | None = None
