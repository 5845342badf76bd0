"""In-memory state of the Asana sandbox, with a JSON save/load that round-trips exactly.

The store holds raw records (see `sandbox.records`) keyed by gid. It is used two ways:

1. **Direct insertion** (the workspace generator, tests): the `add_*` methods below insert
   records with explicit timestamps and *never* create system stories or events, so generated
   history is exactly what the caller wrote. All `created_at`/`completed_at`/... arguments are
   ISO-8601 strings (``"2026-11-02T09:30:00.000Z"``) or `datetime`s (converted to UTC, ms);
   dates (`due_on`, `start_on`) are ``"YYYY-MM-DD"`` strings or `date`s. When a timestamp is
   omitted, `store.now()` is used (a fixed clock can be set with `set_clock`).
2. **The REST app** (`sandbox.app`), which calls `sandbox.actions.*` for API semantics
   (validation, system stories, events) while holding `store.lock`.

Gids are numeric strings allocated from a counter (deterministic: the same sequence of calls
gives the same gids). Every `add_*` accepts `gid=` to force one.

Direct-insertion API (all return the new record; arguments after `*` are keyword-only)::

    add_workspace(name, *, is_organization=True, email_domains=(), gid=None) -> Workspace
    add_user(name, email, *, workspaces=(), gid=None) -> User          # also joins workspaces
    add_workspace_member(workspace_gid, user_gid) -> None
    add_team(workspace_gid, name, *, description="", members=(), gid=None) -> Team
    add_project(workspace_gid, name, *, team=None, owner=None, notes="", color=None,
                created_at=None, modified_at=None, start_on=None, due_on=None, members=(),
                archived=False, public=True, completed=False, completed_at=None,
                default_view="list", gid=None) -> Project
    add_section(project_gid, name, *, created_at=None, gid=None) -> Section
    add_custom_field(workspace_gid, name, resource_subtype, *, precision=0, enum_options=(),
                     description="", format="none", created_by=None, gid=None) -> CustomField
        # resource_subtype: text | number | enum | multi_enum | date | people
        # enum_options: names, or (name, color) pairs; gids in cf.enum_options (creation order)
    add_enum_option(custom_field_gid, name, *, color="none", enabled=True, gid=None) -> EnumOption
    enum_option_gid(custom_field_gid, option_name) -> str
    add_field_setting(parent_gid, custom_field_gid, *, is_important=False, gid=None)
        -> CustomFieldSetting                                  # parent: project or portfolio
    add_tag(workspace_gid, name, *, color=None, notes="", created_at=None, gid=None) -> Tag
    add_task(workspace_gid, name, *, notes="", html_notes=None, created_at=None,
             created_by=None, modified_at=None, assignee=None, assigned_by=None,
             completed=False, completed_at=None, completed_by=None, due_on=None, due_at=None,
             start_on=None, memberships=(), projects=(), tags=(), followers=(), parent=None,
             resource_subtype="default_task", approval_status=None, custom_fields=None,
             dependencies=(), gid=None) -> Task
        # memberships: (project_gid, section_gid | None) pairs or {"project", "section"} dicts;
        #   section None -> the project's first section ("Untitled section" is created when the
        #   project has none, as Asana does). projects: project gids (first section).
        # custom_fields: {cf_gid: value}; enum/multi_enum values may be option gids or names,
        #   number -> rounded to the field precision, date -> "YYYY-MM-DD" or {"date": ...},
        #   people -> [user gids], text -> str.
        # dependencies: gids of tasks this task depends on (dependents are kept in sync).
    add_dependency(task_gid, depends_on_gid) -> None
    add_task_to_project(task_gid, project_gid, section_gid=None) -> None
    move_task_to_section(task_gid, section_gid) -> None
    add_story(task_gid, *, text="", created_at=None, created_by=None, type="comment",
              resource_subtype=None, html_text=None, is_pinned=False, source="web",
              fields=None, gid=None) -> Story
        # type "comment" (default subtype "comment_added") or "system"; `fields` holds the
        # structured fields, e.g. {"old_section": s1, "new_section": s2} or
        # {"custom_field": cf, "old_enum_value": opt1, "new_enum_value": opt2,
        #  "old_number_value": 3, "new_number_value": 5}. A string gid under a resource-valued key
        #  (section/assignee/custom_field/enum/dependency/project/tag/...) becomes a
        #  {"gid","resource_type"} ref automatically; lists of gids likewise.
    add_portfolio(workspace_gid, name, *, owner=None, items=(), members=(), color="light-warm-gray",
                  created_at=None, start_on=None, due_on=None, public=False, gid=None) -> Portfolio
    add_portfolio_item(portfolio_gid, project_gid) -> None
    add_status_update(parent_gid, *, text, status_type="on_track", title="", author=None,
                      created_at=None, html_text=None, gid=None) -> StatusUpdate
    add_attachment(parent_gid, name, content: bytes, *, content_type=..., created_at=None,
                   gid=None) -> Attachment
    add_token(token, user_gid) -> None                # Bearer token -> user
    set_clock(fn: Callable[[], datetime] | None) -> None     # None = real UTC clock

Reading: `store.get(gid)` (any type, or None), `store.get_typed(gid, "task")`, the typed tables
`store.tasks`, `store.projects`, ... (dict gid -> record), `store.user_for_token(token)`,
`store.project_tasks(project_gid)` (section order), `store.stories_for(task_gid)`.

Persistence: `store.save(path)`, `Store.load(path)`, `store.to_json()`, `Store.from_json(d)`;
`store.meta` (dict, saved too) holds e.g. `"default_token"`, the token `sandbox.cli` prints after a load.
Request counters (not persisted): `store.stats` (`sandbox.stats.RequestStats`):
`stats.total`, `stats.mutating_total()`, `stats.count("POST", "/tasks")`, `stats.snapshot()`.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar

from sandbox.oauth import OAuthRegistry
from sandbox.records import (
    RECORD_TYPES,
    Attachment,
    CustomField,
    CustomFieldSetting,
    EnumOption,
    Event,
    Portfolio,
    Project,
    Record,
    Section,
    StatusUpdate,
    Story,
    Tag,
    Task,
    Team,
    User,
    Webhook,
    Workspace,
)
from sandbox.stats import RequestStats

STATE_FORMAT = 1
FIRST_GID = 1_200_000_000_000_001
R = TypeVar("R", bound=Record)

# Structured story fields whose values are resources (gid -> ref conversion in add_story).
_STORY_REF_FIELDS = {
    "assignee": "user",
    "follower": "user",
    "old_section": "section",
    "new_section": "section",
    "project": "project",
    "tag": "tag",
    "dependency": "task",
    "duplicate_of": "task",
    "duplicated_from": "task",
    "custom_field": "custom_field",
    "old_enum_value": "enum_option",
    "new_enum_value": "enum_option",
    "old_multi_enum_values": "enum_option",
    "new_multi_enum_values": "enum_option",
    "old_people_value": "user",
    "new_people_value": "user",
    "task": "task",
}


def iso(value: datetime | str | None) -> str | None:
    """Asana timestamp form: UTC, millisecond precision, trailing Z."""
    if value is None or isinstance(value, str):
        return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def day(value: date | str | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return value.isoformat()


def parse_iso(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class Store:
    """All sandbox state. Hold `store.lock` (re-entrant) around multi-step reads and writes."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.stats = RequestStats()
        self._clock: Callable[[], datetime] | None = None
        self.next_gid = FIRST_GID
        self.tables: dict[str, dict[str, Record]] = {name: {} for name in RECORD_TYPES if name != "event"}
        self.index: dict[str, Record] = {}
        # Counts every change to which gids the tables hold (`_put`, `remove`, the only writers):
        # rendered fragments that only used a record's presence or type check it, not each gid.
        self.index_version = 0
        # Derived (not saved): story gids per task, so listing a task's stories is cheap.
        self._stories_by_task: dict[str, list[str]] = {}
        self.tokens: dict[str, str] = {}
        # OAuth apps, codes, refresh tokens and access-token expiry (sandbox/oauth.py).
        self.oauth = OAuthRegistry()
        # Free-form saved metadata (e.g. "default_token": the token a CLI prints after loading).
        self.meta: dict[str, Any] = {}
        self.events: list[Event] = []
        self.next_event_seq = 1
        # Sync tokens of the events API: token -> (resource gid, last seen event seq).
        self.sync_tokens: dict[str, list[Any]] = {}
        # Called (outside no particular lock order: with store.lock held) for every new event.
        self.event_listeners: list[Callable[[Event], None]] = []

    # ---- typed tables ---------------------------------------------------------------------
    @property
    def workspaces(self) -> dict[str, Workspace]:
        return self.tables["workspace"]  # type: ignore[return-value]

    @property
    def users(self) -> dict[str, User]:
        return self.tables["user"]  # type: ignore[return-value]

    @property
    def teams(self) -> dict[str, Team]:
        return self.tables["team"]  # type: ignore[return-value]

    @property
    def projects(self) -> dict[str, Project]:
        return self.tables["project"]  # type: ignore[return-value]

    @property
    def sections(self) -> dict[str, Section]:
        return self.tables["section"]  # type: ignore[return-value]

    @property
    def custom_fields(self) -> dict[str, CustomField]:
        return self.tables["custom_field"]  # type: ignore[return-value]

    @property
    def enum_options(self) -> dict[str, EnumOption]:
        return self.tables["enum_option"]  # type: ignore[return-value]

    @property
    def field_settings(self) -> dict[str, CustomFieldSetting]:
        return self.tables["custom_field_setting"]  # type: ignore[return-value]

    @property
    def tasks(self) -> dict[str, Task]:
        return self.tables["task"]  # type: ignore[return-value]

    @property
    def stories(self) -> dict[str, Story]:
        return self.tables["story"]  # type: ignore[return-value]

    @property
    def tags(self) -> dict[str, Tag]:
        return self.tables["tag"]  # type: ignore[return-value]

    @property
    def portfolios(self) -> dict[str, Portfolio]:
        return self.tables["portfolio"]  # type: ignore[return-value]

    @property
    def status_updates(self) -> dict[str, StatusUpdate]:
        return self.tables["status_update"]  # type: ignore[return-value]

    @property
    def attachments(self) -> dict[str, Attachment]:
        return self.tables["attachment"]  # type: ignore[return-value]

    @property
    def webhooks(self) -> dict[str, Webhook]:
        return self.tables["webhook"]  # type: ignore[return-value]

    # ---- basics ---------------------------------------------------------------------------
    def set_clock(self, fn: Callable[[], datetime] | None) -> None:
        self._clock = fn

    def now_dt(self) -> datetime:
        return self._clock() if self._clock else datetime.now(UTC)

    def now(self) -> str:
        return iso(self.now_dt()) or ""

    def new_gid(self) -> str:
        with self.lock:
            gid = str(self.next_gid)
            self.next_gid += 1
            return gid

    def _put(self, record: R) -> R:
        with self.lock:
            if record.gid in self.index:
                raise ValueError(f"gid {record.gid} already used")
            self.tables[record.resource_type][record.gid] = record
            self.index[record.gid] = record
            self.index_version += 1
            if isinstance(record, Story):
                self._stories_by_task.setdefault(record.target, []).append(record.gid)
            # A forced numeric gid above the counter must not be handed out again.
            if record.gid.isdigit() and int(record.gid) >= self.next_gid:
                self.next_gid = int(record.gid) + 1
            return record

    def remove(self, gid: str) -> None:
        with self.lock:
            record = self.index.pop(gid, None)
            if record is not None:
                self.index_version += 1
                self.tables[record.resource_type].pop(gid, None)
                if isinstance(record, Story) and gid in self._stories_by_task.get(record.target, []):
                    self._stories_by_task[record.target].remove(gid)

    def get(self, gid: str) -> Record | None:
        return self.index.get(gid)

    def get_typed(self, gid: str, resource_type: str) -> Any:
        record = self.index.get(gid)
        return record if record is not None and record.resource_type == resource_type else None

    def _need(self, gid: str, resource_type: str) -> Any:
        record = self.get_typed(gid, resource_type)
        if record is None:
            raise KeyError(f"no {resource_type} with gid {gid}")
        return record

    def ref(self, gid: str) -> dict[str, str]:
        """`{"gid", "resource_type"}` of an existing record (used in story fields and events)."""
        record = self.index.get(gid)
        if record is None:
            raise KeyError(f"unknown gid {gid}")
        return {"gid": gid, "resource_type": record.resource_type}

    def user_for_token(self, token: str) -> User | None:
        gid = self.tokens.get(token)
        if gid and self.oauth.expired(token, self.now_dt()):
            return None  # an expired OAuth access token is as good as none: 401
        return self.users.get(gid) if gid else None

    def workspace_of(self, record: Record) -> str | None:
        """The workspace a record lives in (for the 403 "other workspace" rule)."""
        if isinstance(record, Workspace):
            return record.gid
        ws = getattr(record, "workspace", None)
        if ws:
            return str(ws)
        if isinstance(record, Section):
            return self.projects[record.project].workspace if record.project in self.projects else None
        if isinstance(record, EnumOption):
            cf = self.custom_fields.get(record.custom_field)
            return cf.workspace if cf else None
        if isinstance(record, CustomFieldSetting | StatusUpdate | Attachment):
            parent = self.index.get(record.parent)
            return self.workspace_of(parent) if parent else None
        if isinstance(record, Story):
            target = self.index.get(record.target)
            return self.workspace_of(target) if target else None
        if isinstance(record, Webhook):
            target = self.index.get(record.resource)
            return self.workspace_of(target) if target else None
        return None

    # ---- direct insertion -----------------------------------------------------------------
    def add_workspace(
        self,
        name: str,
        *,
        is_organization: bool = True,
        email_domains: Iterable[str] = (),
        gid: str | None = None,
    ) -> Workspace:
        return self._put(
            Workspace(
                gid=gid or self.new_gid(),
                name=name,
                is_organization=is_organization,
                email_domains=list(email_domains),
            )
        )

    def add_user(
        self, name: str, email: str, *, workspaces: Iterable[str] = (), gid: str | None = None
    ) -> User:
        user = self._put(User(gid=gid or self.new_gid(), name=name, email=email))
        for ws in workspaces:
            self.add_workspace_member(ws, user.gid)
        return user

    def add_workspace_member(self, workspace_gid: str, user_gid: str) -> None:
        with self.lock:
            ws: Workspace = self._need(workspace_gid, "workspace")
            user: User = self._need(user_gid, "user")
            if user_gid not in ws.members:
                ws.members.append(user_gid)
            if workspace_gid not in user.workspaces:
                user.workspaces.append(workspace_gid)

    def add_team(
        self,
        workspace_gid: str,
        name: str,
        *,
        description: str = "",
        members: Iterable[str] = (),
        gid: str | None = None,
    ) -> Team:
        self._need(workspace_gid, "workspace")
        return self._put(
            Team(
                gid=gid or self.new_gid(),
                name=name,
                workspace=workspace_gid,
                description=description,
                members=list(members),
            )
        )

    def add_project(
        self,
        workspace_gid: str,
        name: str,
        *,
        team: str | None = None,
        owner: str | None = None,
        notes: str = "",
        color: str | None = None,
        created_at: datetime | str | None = None,
        modified_at: datetime | str | None = None,
        start_on: date | str | None = None,
        due_on: date | str | None = None,
        members: Iterable[str] = (),
        archived: bool = False,
        public: bool = True,
        completed: bool = False,
        completed_at: datetime | str | None = None,
        default_view: str = "list",
        gid: str | None = None,
    ) -> Project:
        self._need(workspace_gid, "workspace")
        created = iso(created_at) or self.now()
        member_list = list(dict.fromkeys([*([owner] if owner else []), *members]))
        return self._put(
            Project(
                gid=gid or self.new_gid(),
                name=name,
                workspace=workspace_gid,
                team=team,
                owner=owner,
                notes=notes,
                color=color,
                archived=archived,
                public=public,
                completed=completed,
                completed_at=iso(completed_at),
                created_at=created,
                modified_at=iso(modified_at) or created,
                start_on=day(start_on),
                due_on=day(due_on),
                default_view=default_view,
                members=member_list,
            )
        )

    def add_section(
        self,
        project_gid: str,
        name: str,
        *,
        created_at: datetime | str | None = None,
        gid: str | None = None,
        index: int | None = None,
    ) -> Section:
        with self.lock:
            project: Project = self._need(project_gid, "project")
            section = self._put(
                Section(
                    gid=gid or self.new_gid(),
                    name=name,
                    project=project_gid,
                    created_at=iso(created_at) or self.now(),
                )
            )
            if index is None:
                project.sections.append(section.gid)
            else:
                project.sections.insert(index, section.gid)
            return section

    def add_custom_field(
        self,
        workspace_gid: str,
        name: str,
        resource_subtype: str,
        *,
        precision: int = 0,
        enum_options: Iterable[str | tuple[str, str]] = (),
        description: str = "",
        format: str = "none",
        created_by: str | None = None,
        gid: str | None = None,
    ) -> CustomField:
        if resource_subtype not in {"text", "number", "enum", "multi_enum", "date", "people"}:
            raise ValueError(f"unsupported custom field type {resource_subtype!r}")
        self._need(workspace_gid, "workspace")
        with self.lock:
            cf = self._put(
                CustomField(
                    gid=gid or self.new_gid(),
                    name=name,
                    workspace=workspace_gid,
                    resource_subtype=resource_subtype,
                    precision=precision,
                    description=description,
                    format=format,
                    created_by=created_by,
                )
            )
            for option in enum_options:
                opt_name, color = (option, "none") if isinstance(option, str) else option
                self.add_enum_option(cf.gid, opt_name, color=color)
            return cf

    def add_enum_option(
        self,
        custom_field_gid: str,
        name: str,
        *,
        color: str = "none",
        enabled: bool = True,
        gid: str | None = None,
    ) -> EnumOption:
        with self.lock:
            cf: CustomField = self._need(custom_field_gid, "custom_field")
            option = self._put(
                EnumOption(
                    gid=gid or self.new_gid(), name=name, custom_field=cf.gid, enabled=enabled, color=color
                )
            )
            cf.enum_options.append(option.gid)
            return option

    def enum_option_gid(self, custom_field_gid: str, option_name: str) -> str:
        cf: CustomField = self._need(custom_field_gid, "custom_field")
        for opt_gid in cf.enum_options:
            if self.enum_options[opt_gid].name == option_name:
                return opt_gid
        raise KeyError(f"custom field {cf.name!r} has no option {option_name!r}")

    def add_field_setting(
        self, parent_gid: str, custom_field_gid: str, *, is_important: bool = False, gid: str | None = None
    ) -> CustomFieldSetting:
        with self.lock:
            parent = self.index.get(parent_gid)
            if not isinstance(parent, Project | Portfolio):
                raise KeyError(f"no project or portfolio with gid {parent_gid}")
            self._need(custom_field_gid, "custom_field")
            for setting_gid in parent.custom_field_settings:
                if self.field_settings[setting_gid].custom_field == custom_field_gid:
                    return self.field_settings[setting_gid]
            setting = self._put(
                CustomFieldSetting(
                    gid=gid or self.new_gid(),
                    parent=parent_gid,
                    custom_field=custom_field_gid,
                    is_important=is_important,
                )
            )
            parent.custom_field_settings.append(setting.gid)
            return setting

    def add_tag(
        self,
        workspace_gid: str,
        name: str,
        *,
        color: str | None = None,
        notes: str = "",
        created_at: datetime | str | None = None,
        gid: str | None = None,
    ) -> Tag:
        self._need(workspace_gid, "workspace")
        return self._put(
            Tag(
                gid=gid or self.new_gid(),
                name=name,
                workspace=workspace_gid,
                color=color,
                notes=notes,
                created_at=iso(created_at) or self.now(),
            )
        )

    def add_task(
        self,
        workspace_gid: str,
        name: str,
        *,
        notes: str = "",
        html_notes: str | None = None,
        created_at: datetime | str | None = None,
        created_by: str | None = None,
        modified_at: datetime | str | None = None,
        assignee: str | None = None,
        assigned_by: str | None = None,
        completed: bool = False,
        completed_at: datetime | str | None = None,
        completed_by: str | None = None,
        due_on: date | str | None = None,
        due_at: datetime | str | None = None,
        start_on: date | str | None = None,
        memberships: Iterable[tuple[str, str | None] | Mapping[str, str | None]] = (),
        projects: Iterable[str] = (),
        tags: Iterable[str] = (),
        followers: Iterable[str] = (),
        parent: str | None = None,
        resource_subtype: str = "default_task",
        approval_status: str | None = None,
        custom_fields: Mapping[str, Any] | None = None,
        dependencies: Iterable[str] = (),
        gid: str | None = None,
    ) -> Task:
        with self.lock:
            self._need(workspace_gid, "workspace")
            created = iso(created_at) or self.now()
            if resource_subtype == "approval" and approval_status is None:
                approval_status = "pending"
            task = self._put(
                Task(
                    gid=gid or self.new_gid(),
                    name=name,
                    workspace=workspace_gid,
                    notes=notes,
                    html_notes=html_notes,
                    created_at=created,
                    created_by=created_by,
                    modified_at=iso(modified_at) or created,
                    assignee=assignee,
                    assigned_by=assigned_by,
                    completed=completed,
                    completed_at=iso(completed_at) if completed else None,
                    completed_by=completed_by if completed else None,
                    due_on=day(due_on),
                    due_at=iso(due_at),
                    start_on=day(start_on),
                    resource_subtype=resource_subtype,
                    approval_status=approval_status,
                    tags=list(dict.fromkeys(tags)),
                    followers=list(dict.fromkeys(followers)),
                )
            )
            if completed and task.completed_at is None:
                task.completed_at = created
            for membership in memberships:
                if isinstance(membership, Mapping):
                    project_gid, section_gid = membership["project"], membership.get("section")
                else:
                    project_gid, section_gid = membership
                self.add_task_to_project(task.gid, str(project_gid), section_gid)
            for project_gid in projects:
                self.add_task_to_project(task.gid, project_gid)
            if parent is not None:
                parent_task: Task = self._need(parent, "task")
                task.parent = parent
                parent_task.subtasks.append(task.gid)
            for cf_gid, value in (custom_fields or {}).items():
                task.custom_fields[cf_gid] = self.coerce_field_value(cf_gid, value)
            for dep in dependencies:
                self.add_dependency(task.gid, dep)
            return task

    def coerce_field_value(self, cf_gid: str, value: Any) -> Any:
        """Raw stored form of a custom-field value (lenient: accepts option names and dates)."""
        cf: CustomField = self._need(cf_gid, "custom_field")
        if value is None:
            return None
        kind = cf.resource_subtype
        if kind == "number":
            return round(float(value), cf.precision)
        if kind == "enum":
            return self._option_gid(cf, str(value))
        if kind == "multi_enum":
            return [self._option_gid(cf, str(v)) for v in value]
        if kind == "date":
            if isinstance(value, date | datetime):
                return {"date": value.isoformat()[:10], "date_time": None}
            if isinstance(value, str):
                return {"date": value, "date_time": None}
            return {"date": value.get("date"), "date_time": value.get("date_time")}
        if kind == "people":
            return [str(v) for v in value]
        return str(value)

    def _option_gid(self, cf: CustomField, value: str) -> str:
        if value in cf.enum_options:
            return value
        return self.enum_option_gid(cf.gid, value)

    def add_task_to_project(
        self,
        task_gid: str,
        project_gid: str,
        section_gid: str | None = None,
        *,
        insert_before: str | None = None,
        insert_after: str | None = None,
    ) -> None:
        """Add (or move within) a project; section None = the project's first section."""
        with self.lock:
            task: Task = self._need(task_gid, "task")
            project: Project = self._need(project_gid, "project")
            if section_gid is None:
                current = next((m for m in task.memberships if m["project"] == project_gid), None)
                if current is not None:
                    return
                if not project.sections:
                    self.add_section(project_gid, "Untitled section", created_at=project.created_at)
                section_gid = project.sections[0]
            section: Section = self._need(section_gid, "section")
            if section.project != project_gid:
                raise ValueError(f"section {section_gid} is not in project {project_gid}")
            for m in task.memberships:
                if m["project"] == project_gid:
                    old = self.sections.get(m["section"])
                    if old is not None and task_gid in old.tasks:
                        old.tasks.remove(task_gid)
                    m["section"] = section_gid
                    break
            else:
                task.memberships.append({"project": project_gid, "section": section_gid})
            position = len(section.tasks)
            if insert_before is not None and insert_before in section.tasks:
                position = section.tasks.index(insert_before)
            elif insert_after is not None and insert_after in section.tasks:
                position = section.tasks.index(insert_after) + 1
            section.tasks.insert(position, task_gid)

    def move_task_to_section(self, task_gid: str, section_gid: str) -> None:
        section: Section = self._need(section_gid, "section")
        self.add_task_to_project(task_gid, section.project, section_gid)

    def remove_task_from_project(self, task_gid: str, project_gid: str) -> None:
        with self.lock:
            task: Task = self._need(task_gid, "task")
            for m in list(task.memberships):
                if m["project"] == project_gid:
                    section = self.sections.get(m["section"])
                    if section is not None and task_gid in section.tasks:
                        section.tasks.remove(task_gid)
                    task.memberships.remove(m)

    def add_dependency(self, task_gid: str, depends_on_gid: str) -> None:
        with self.lock:
            task: Task = self._need(task_gid, "task")
            blocker: Task = self._need(depends_on_gid, "task")
            if task_gid == depends_on_gid:
                raise ValueError("a task cannot depend on itself")
            if depends_on_gid not in task.dependencies:
                task.dependencies.append(depends_on_gid)
            if task_gid not in blocker.dependents:
                blocker.dependents.append(task_gid)

    def remove_dependency(self, task_gid: str, depends_on_gid: str) -> None:
        with self.lock:
            task: Task = self._need(task_gid, "task")
            blocker: Task = self._need(depends_on_gid, "task")
            if depends_on_gid in task.dependencies:
                task.dependencies.remove(depends_on_gid)
            if task_gid in blocker.dependents:
                blocker.dependents.remove(task_gid)

    def add_story(
        self,
        task_gid: str,
        *,
        text: str = "",
        created_at: datetime | str | None = None,
        created_by: str | None = None,
        type: str = "comment",
        resource_subtype: str | None = None,
        html_text: str | None = None,
        is_pinned: bool = False,
        source: str = "web",
        fields: Mapping[str, Any] | None = None,
        gid: str | None = None,
    ) -> Story:
        if type not in {"comment", "system"}:
            raise ValueError("story type must be 'comment' or 'system'")
        with self.lock:
            self._need(task_gid, "task")
            structured: dict[str, Any] = {}
            for key, value in (fields or {}).items():
                structured[key] = self._story_value(key, value)
            return self._put(
                Story(
                    gid=gid or self.new_gid(),
                    target=task_gid,
                    created_at=iso(created_at) or self.now(),
                    created_by=created_by,
                    type=type,
                    resource_subtype=resource_subtype or ("comment_added" if type == "comment" else "system"),
                    text=text,
                    html_text=html_text,
                    is_pinned=is_pinned,
                    source=source,
                    fields=structured,
                )
            )

    def _story_value(self, key: str, value: Any) -> Any:
        if key not in _STORY_REF_FIELDS or value is None:
            return value
        rtype = _STORY_REF_FIELDS[key]
        if isinstance(value, str):
            return {"gid": value, "resource_type": rtype}
        if isinstance(value, list):
            return [{"gid": v, "resource_type": rtype} if isinstance(v, str) else v for v in value]
        return value

    def add_portfolio(
        self,
        workspace_gid: str,
        name: str,
        *,
        owner: str | None = None,
        items: Iterable[str] = (),
        members: Iterable[str] = (),
        color: str = "light-warm-gray",
        created_at: datetime | str | None = None,
        start_on: date | str | None = None,
        due_on: date | str | None = None,
        public: bool = False,
        gid: str | None = None,
    ) -> Portfolio:
        self._need(workspace_gid, "workspace")
        member_list = list(dict.fromkeys([*([owner] if owner else []), *members]))
        portfolio = self._put(
            Portfolio(
                gid=gid or self.new_gid(),
                name=name,
                workspace=workspace_gid,
                owner=owner,
                color=color,
                created_at=iso(created_at) or self.now(),
                start_on=day(start_on),
                due_on=day(due_on),
                public=public,
                members=member_list,
            )
        )
        for item in items:
            self.add_portfolio_item(portfolio.gid, item)
        return portfolio

    def add_portfolio_item(self, portfolio_gid: str, project_gid: str) -> None:
        with self.lock:
            portfolio: Portfolio = self._need(portfolio_gid, "portfolio")
            if not isinstance(self.index.get(project_gid), Project | Portfolio):
                raise KeyError(f"no project or portfolio with gid {project_gid}")
            if project_gid not in portfolio.items:
                portfolio.items.append(project_gid)

    def add_status_update(
        self,
        parent_gid: str,
        *,
        text: str,
        status_type: str = "on_track",
        title: str = "",
        author: str | None = None,
        created_at: datetime | str | None = None,
        html_text: str | None = None,
        gid: str | None = None,
    ) -> StatusUpdate:
        with self.lock:
            parent = self.index.get(parent_gid)
            if not isinstance(parent, Project | Portfolio):
                raise KeyError(f"no project or portfolio with gid {parent_gid}")
            created = iso(created_at) or self.now()
            subtype = "project_status_update" if isinstance(parent, Project) else "portfolio_status_update"
            update = self._put(
                StatusUpdate(
                    gid=gid or self.new_gid(),
                    parent=parent_gid,
                    title=title,
                    text=text,
                    html_text=html_text,
                    status_type=status_type,
                    resource_subtype=subtype,
                    author=author,
                    created_by=author,
                    created_at=created,
                    modified_at=created,
                )
            )
            parent.current_status_update = update.gid
            return update

    def add_attachment(
        self,
        parent_gid: str,
        name: str,
        content: bytes,
        *,
        content_type: str = "application/octet-stream",
        created_at: datetime | str | None = None,
        gid: str | None = None,
    ) -> Attachment:
        import base64

        if self.get_typed(parent_gid, "project") is None:
            self._need(parent_gid, "task")
        return self._put(
            Attachment(
                gid=gid or self.new_gid(),
                name=name,
                parent=parent_gid,
                created_at=iso(created_at) or self.now(),
                content_type=content_type,
                content_b64=base64.b64encode(content).decode("ascii"),
            )
        )

    def add_token(self, token: str, user_gid: str) -> None:
        self._need(user_gid, "user")
        with self.lock:
            self.tokens[token] = user_gid

    # ---- queries --------------------------------------------------------------------------
    def project_tasks(self, project_gid: str) -> list[str]:
        """Task gids of a project in board order (section by section)."""
        project: Project = self._need(project_gid, "project")
        out: list[str] = []
        for section_gid in project.sections:
            out.extend(self.sections[section_gid].tasks)
        return out

    def stories_for(self, task_gid: str) -> list[Story]:
        stories = [self.stories[g] for g in self._stories_by_task.get(task_gid, ())]
        return sorted(stories, key=lambda s: (s.created_at, int(s.gid) if s.gid.isdigit() else 0))

    def section_of(self, task: Task, project_gid: str) -> str | None:
        for m in task.memberships:
            if m["project"] == project_gid:
                return m["section"]
        return None

    # ---- events ---------------------------------------------------------------------------
    def append_event(self, event: Event) -> Event:
        with self.lock:
            event.seq = self.next_event_seq
            event.gid = str(event.seq)
            self.next_event_seq += 1
            self.events.append(event)
            listeners = list(self.event_listeners)
        for listener in listeners:
            listener(event)
        return event

    # ---- persistence ----------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        with self.lock:
            return {
                "format": STATE_FORMAT,
                "next_gid": self.next_gid,
                "next_event_seq": self.next_event_seq,
                "tokens": dict(self.tokens),
                "oauth": self.oauth.to_json(),
                "meta": dict(self.meta),
                "sync_tokens": {k: list(v) for k, v in self.sync_tokens.items()},
                "records": {
                    name: [r.to_json() for r in table.values()] for name, table in self.tables.items()
                },
                "events": [e.to_json() for e in self.events],
            }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Store:
        if data.get("format") != STATE_FORMAT:
            raise ValueError(f"unsupported sandbox state format {data.get('format')!r}")
        store = cls()
        for name, rows in data["records"].items():
            record_cls = RECORD_TYPES[name]
            for row in rows:
                record = record_cls.from_json(row)
                store.tables[name][record.gid] = record
                store.index[record.gid] = record
                store.index_version += 1
                if isinstance(record, Story):
                    store._stories_by_task.setdefault(record.target, []).append(record.gid)
        store.events = [Event.from_json(row) for row in data.get("events", [])]  # type: ignore[misc]
        store.next_gid = int(data["next_gid"])
        store.next_event_seq = int(data.get("next_event_seq", len(store.events) + 1))
        store.tokens = dict(data.get("tokens", {}))
        store.oauth = OAuthRegistry.from_json(data.get("oauth", {}))
        store.meta = dict(data.get("meta", {}))
        store.sync_tokens = {k: list(v) for k, v in data.get("sync_tokens", {}).items()}
        return store

    def save(self, path: str | Path) -> None:
        text = json.dumps(self.to_json(), sort_keys=True, separators=(",", ":"))
        target = Path(path)
        tmp = target.with_suffix(target.suffix + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(target)  # atomic: a crash mid-save never leaves half a state file

    @classmethod
    def load(cls, path: str | Path) -> Store:
        return cls.from_json(json.loads(Path(path).read_text(encoding="utf-8")))
