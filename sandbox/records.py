"""Plain records held by the sandbox store, one dataclass per Asana resource type.

Records hold *raw* state only (gids, not nested objects); the REST shape is built by
`sandbox.serialize`. Every record type round-trips through `to_json`/`from_json` exactly, which
is what makes `Store.save`/`Store.load` lossless.
"""

from __future__ import annotations

import base64
import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar


@dataclass
class Record:
    resource_type: ClassVar[str] = ""
    gid: str

    def to_json(self) -> dict[str, Any]:
        return {f.name: _copy(getattr(self, f.name)) for f in dataclasses.fields(self)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Record:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: _copy(v) for k, v in data.items() if k in names})


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


@dataclass
class Workspace(Record):
    resource_type: ClassVar[str] = "workspace"
    name: str = ""
    is_organization: bool = True
    email_domains: list[str] = field(default_factory=list)
    members: list[str] = field(default_factory=list)


@dataclass
class User(Record):
    resource_type: ClassVar[str] = "user"
    name: str = ""
    email: str = ""
    workspaces: list[str] = field(default_factory=list)


@dataclass
class Team(Record):
    resource_type: ClassVar[str] = "team"
    name: str = ""
    workspace: str = ""
    description: str = ""
    members: list[str] = field(default_factory=list)


@dataclass
class Project(Record):
    resource_type: ClassVar[str] = "project"
    name: str = ""
    workspace: str = ""
    team: str | None = None
    owner: str | None = None
    notes: str = ""
    html_notes: str | None = None
    color: str | None = None
    archived: bool = False
    public: bool = True
    # public_to_workspace | private_to_team | private; None: from `public` (older saved states).
    privacy_setting: str | None = None
    completed: bool = False
    completed_at: str | None = None
    created_at: str = ""
    modified_at: str = ""
    start_on: str | None = None
    due_on: str | None = None
    default_view: str = "list"
    members: list[str] = field(default_factory=list)
    sections: list[str] = field(default_factory=list)
    custom_field_settings: list[str] = field(default_factory=list)
    current_status_update: str | None = None
    # The project's own values (portfolio fields: a portfolio's settings give each of its projects
    # the field), raw and keyed by custom-field gid like Task.custom_fields.
    custom_fields: dict[str, Any] = field(default_factory=dict)


@dataclass
class Section(Record):
    resource_type: ClassVar[str] = "section"
    name: str = ""
    project: str = ""
    created_at: str = ""
    tasks: list[str] = field(default_factory=list)


@dataclass
class EnumOption(Record):
    resource_type: ClassVar[str] = "enum_option"
    name: str = ""
    custom_field: str = ""
    enabled: bool = True
    color: str = "none"


@dataclass
class CustomField(Record):
    resource_type: ClassVar[str] = "custom_field"
    name: str = ""
    workspace: str = ""
    resource_subtype: str = "text"
    description: str = ""
    precision: int = 0
    format: str = "none"
    enum_options: list[str] = field(default_factory=list)
    created_by: str | None = None
    is_global_to_workspace: bool = True


@dataclass
class CustomFieldSetting(Record):
    resource_type: ClassVar[str] = "custom_field_setting"
    parent: str = ""
    custom_field: str = ""
    is_important: bool = False


@dataclass
class Task(Record):
    resource_type: ClassVar[str] = "task"
    name: str = ""
    workspace: str = ""
    resource_subtype: str = "default_task"
    notes: str = ""
    html_notes: str | None = None
    assignee: str | None = None
    assigned_by: str | None = None
    completed: bool = False
    completed_at: str | None = None
    completed_by: str | None = None
    created_at: str = ""
    created_by: str | None = None
    modified_at: str = ""
    due_on: str | None = None
    due_at: str | None = None
    start_on: str | None = None
    start_at: str | None = None
    parent: str | None = None
    approval_status: str | None = None
    # [{"project": gid, "section": gid}] in the order the task joined its projects.
    memberships: list[dict[str, str]] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    followers: list[str] = field(default_factory=list)
    dependencies: list[str] = field(default_factory=list)
    dependents: list[str] = field(default_factory=list)
    subtasks: list[str] = field(default_factory=list)
    # Raw values keyed by custom-field gid: text str, number float, enum option gid,
    # multi_enum [option gids], date {"date", "date_time"}, people [user gids].
    custom_fields: dict[str, Any] = field(default_factory=dict)
    external: dict[str, Any] | None = None


@dataclass
class Story(Record):
    resource_type: ClassVar[str] = "story"
    target: str = ""
    created_at: str = ""
    created_by: str | None = None
    type: str = "comment"
    resource_subtype: str = "comment_added"
    text: str = ""
    html_text: str | None = None
    is_pinned: bool = False
    source: str = "api"
    sticker_name: str | None = None  # a comment's sticker (StoryBase.sticker_name enum)
    # Structured fields of system stories (old_section, new_enum_value, ...). Resource values are
    # stored as refs {"gid", "resource_type"} and expanded by the serializer.
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass
class Tag(Record):
    resource_type: ClassVar[str] = "tag"
    name: str = ""
    workspace: str = ""
    color: str | None = None
    notes: str = ""
    created_at: str = ""


@dataclass
class Portfolio(Record):
    resource_type: ClassVar[str] = "portfolio"
    name: str = ""
    workspace: str = ""
    owner: str | None = None
    color: str = "light-warm-gray"
    created_at: str = ""
    start_on: str | None = None
    due_on: str | None = None
    public: bool = False
    items: list[str] = field(default_factory=list)
    members: list[str] = field(default_factory=list)
    custom_field_settings: list[str] = field(default_factory=list)
    current_status_update: str | None = None


@dataclass
class StatusUpdate(Record):
    resource_type: ClassVar[str] = "status_update"
    parent: str = ""
    title: str = ""
    text: str = ""
    html_text: str | None = None
    status_type: str = "on_track"
    resource_subtype: str = "project_status_update"
    author: str | None = None
    created_by: str | None = None
    created_at: str = ""
    modified_at: str = ""


@dataclass
class Attachment(Record):
    resource_type: ClassVar[str] = "attachment"
    name: str = ""
    parent: str = ""
    created_at: str = ""
    content_type: str = "application/octet-stream"
    # Base64 so the JSON state file stays text.
    content_b64: str = ""

    @property
    def content(self) -> bytes:
        return base64.b64decode(self.content_b64)

    @property
    def size(self) -> int:
        return len(self.content)


@dataclass
class Webhook(Record):
    resource_type: ClassVar[str] = "webhook"
    resource: str = ""
    target: str = ""
    secret: str = ""
    active: bool = True
    created_at: str = ""
    created_by_token: str = ""
    filters: list[dict[str, Any]] = field(default_factory=list)
    last_success_at: str | None = None
    last_failure_at: str | None = None
    last_failure_content: str = ""
    delivery_retry_count: int = 0
    next_attempt_after: str | None = None
    failure_deletion_timestamp: str | None = None


@dataclass
class Event(Record):
    """One change in the shared event stream (webhooks and the events API read it)."""

    resource_type: ClassVar[str] = "event"
    seq: int = 0
    created_at: str = ""
    user: str | None = None
    action: str = "changed"
    resource: dict[str, Any] = field(default_factory=dict)
    parent: dict[str, Any] | None = None
    change: dict[str, Any] | None = None
    # Gids whose watchers see this event (the resource and its containers: propagation).
    scopes: list[str] = field(default_factory=list)


@dataclass
class Goal(Record):
    """An Asana goal (asana_oas.yaml GoalResponse); `metric` holds GoalMetricBase's raw fields."""

    resource_type: ClassVar[str] = "goal"
    name: str = ""
    workspace: str = ""
    team: str | None = None
    owner: str | None = None
    notes: str = ""
    html_notes: str | None = None
    due_on: str | None = None
    start_on: str | None = None
    is_workspace_level: bool = True
    time_period: str | None = None
    # green | yellow | red (open) or missed | achieved | partial | dropped (closed); writable only
    # once the goal has a metric (GoalUpdateRequest.status).
    status: str | None = None
    # public_to_workspace | members_only (GoalResponse.privacy_setting); members = followers.
    privacy_setting: str = "public_to_workspace"
    followers: list[str] = field(default_factory=list)
    metric: dict[str, Any] | None = None
    created_at: str = ""


@dataclass
class GoalRelationship(Record):
    """A goal supported by a project, portfolio, task (supporting_work) or goal (subgoal)."""

    resource_type: ClassVar[str] = "goal_relationship"
    workspace: str = ""
    supported_goal: str = ""
    supporting_resource: str = ""
    resource_subtype: str = "supporting_work"
    contribution_weight: float = 0.0


RECORD_TYPES: dict[str, type[Record]] = {
    cls.resource_type: cls
    for cls in (
        Workspace,
        User,
        Team,
        Project,
        Section,
        EnumOption,
        CustomField,
        CustomFieldSetting,
        Task,
        Story,
        Tag,
        Portfolio,
        StatusUpdate,
        Attachment,
        Webhook,
        Event,
        Goal,
        GoalRelationship,
    )
}
