"""Turn store records into Asana JSON, honouring `opt_fields`.

Each resource type has a table of field resolvers plus a compact and a full default field list.
Without `opt_fields` list endpoints return the compact form and single-object endpoints the full
form; with `opt_fields` only `gid` plus the requested (dotted) paths are returned. A nested
resource requested without sub-fields comes back as `{gid, resource_type}`, as Asana does.
Resolvers return plain values, `Ref`s (other records by gid) or `Embedded` pseudo-objects
(memberships, custom-field values), which the renderer expands recursively.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sandbox.access import privacy_of
from sandbox.goals import current_value as goal_current_value
from sandbox.optfields import FieldTree
from sandbox.records import (
    Attachment,
    CustomField,
    Event,
    Goal,
    Project,
    Record,
    Story,
    Task,
    Webhook,
)
from sandbox.store import Store


@dataclass(frozen=True, slots=True)
class Ref:
    gid: str
    resource_type: str


@dataclass(frozen=True, slots=True)
class Embedded:
    kind: str
    value: Any


Resolver = Callable[["Renderer", Any], Any]


@dataclass
class Spec:
    fields: dict[str, Resolver]
    compact: tuple[str, ...]
    full: tuple[str, ...]


def _attr(name: str) -> Resolver:
    def resolve(_r: Renderer, obj: Any) -> Any:
        return getattr(obj, name)

    resolve.attr_name = name  # type: ignore[attr-defined]  # the renderer reads it directly
    return resolve


def _ref(name: str, rtype: str) -> Resolver:
    def resolve(_r: Renderer, obj: Any) -> Ref | None:
        gid = getattr(obj, name)
        return Ref(gid, rtype) if gid else None

    resolve.ref_of = (name, rtype)  # type: ignore[attr-defined]  # compiled plans read it
    return resolve


def _refs(name: str, rtype: str) -> Resolver:
    def resolve(_r: Renderer, obj: Any) -> list[Ref]:
        return [Ref(g, rtype) for g in getattr(obj, name)]

    resolve.refs_of = (name, rtype)  # type: ignore[attr-defined]  # compiled plans read it
    return resolve


def _const(value: Any) -> Resolver:
    return lambda _r, _obj: value


def _rtype(_r: Renderer, obj: Any) -> str:
    return str(obj.resource_type)


# ---- custom field values --------------------------------------------------------------------
def format_number(value: float | None, precision: int) -> str | None:
    if value is None:
        return None
    return f"{value:.{precision}f}"


def display_value(store: Store, cf: CustomField, raw: Any) -> str | None:
    if raw is None or raw == []:
        return None
    kind = cf.resource_subtype
    if kind == "number":
        return format_number(raw, cf.precision)
    if kind == "enum":
        opt = store.enum_options.get(raw)
        return opt.name if opt else None
    if kind == "multi_enum":
        return ", ".join(store.enum_options[g].name for g in raw if g in store.enum_options)
    if kind == "date":
        when: str | None = raw.get("date_time") or raw.get("date")
        return when
    if kind == "people":
        return ", ".join(store.users[g].name for g in raw if g in store.users)
    return str(raw)


def _cf_value(kind: str) -> Resolver:
    def resolve(r: Renderer, entry: tuple[CustomField, Any]) -> Any:
        cf, raw = entry
        if cf.resource_subtype != kind:
            return _ABSENT
        if kind == "enum":
            return Ref(raw, "enum_option") if raw else None
        if kind == "multi_enum":
            return [Ref(g, "enum_option") for g in raw or []]
        if kind == "people":
            return [Ref(g, "user") for g in raw or []]
        if kind == "date":
            return dict(raw) if raw else None
        if kind == "number":
            return raw
        return raw

    resolve.cf_kind = kind  # type: ignore[attr-defined]  # absent unless the field is of this kind
    return resolve


_ABSENT = object()


def _cf_entry_fields() -> dict[str, Resolver]:
    def cf(_r: Renderer, entry: tuple[CustomField, Any]) -> CustomField:
        return entry[0]

    return {
        "name": lambda r, e: cf(r, e).name,
        "resource_type": _const("custom_field"),
        "resource_subtype": lambda r, e: cf(r, e).resource_subtype,
        "type": lambda r, e: cf(r, e).resource_subtype,
        "enabled": _const(True),
        "description": lambda r, e: cf(r, e).description,
        "precision": lambda r, e: cf(r, e).precision if cf(r, e).resource_subtype == "number" else _ABSENT,
        "format": lambda r, e: cf(r, e).format,
        "is_formula_field": _const(False),
        "is_value_read_only": _const(False),
        "created_by": lambda r, e: Ref(str(cf(r, e).created_by), "user") if cf(r, e).created_by else None,
        "enum_options": lambda r, e: (
            [Ref(g, "enum_option") for g in cf(r, e).enum_options]
            if cf(r, e).resource_subtype in ("enum", "multi_enum")
            else _ABSENT
        ),
        "display_value": lambda r, e: display_value(r.store, e[0], e[1]),
        "text_value": _cf_value("text"),
        "number_value": _cf_value("number"),
        "enum_value": _cf_value("enum"),
        "multi_enum_values": _cf_value("multi_enum"),
        "date_value": _cf_value("date"),
        "people_value": _cf_value("people"),
    }


CF_ENTRY_DEFAULT = (
    "name",
    "resource_type",
    "resource_subtype",
    "type",
    "enabled",
    "precision",
    "enum_options",
    "enum_value",
    "multi_enum_values",
    "number_value",
    "text_value",
    "date_value",
    "people_value",
    "display_value",
    "is_formula_field",
    "created_by",
)


# ---- per resource resolvers -----------------------------------------------------------------
def _project_field_gids(r: Renderer, project: Project) -> list[str]:
    """The custom fields of a project's settings, in order (looked up once per list)."""
    memo = r.memo()
    key = ("project_fields", project.gid)
    if memo is not None and key in memo:
        cached: list[str] = memo[key]
        return cached
    gids = [r.store.field_settings[g].custom_field for g in project.custom_field_settings]
    if memo is not None:
        memo[key] = gids
    return gids


def _task_custom_fields(r: Renderer, task: Task) -> list[Embedded]:
    store = r.store
    seen: list[str] = []
    for m in task.memberships:
        project = store.projects.get(m["project"])
        if project is None:
            continue
        for cf_gid in _project_field_gids(r, project):
            if cf_gid not in seen:
                seen.append(cf_gid)
    for cf_gid in task.custom_fields:
        if cf_gid not in seen:
            seen.append(cf_gid)
    return [
        Embedded("custom_field_value", (store.custom_fields[g], task.custom_fields.get(g)))
        for g in seen
        if g in store.custom_fields
    ]


def _project_custom_fields(r: Renderer, project: Project) -> list[Embedded]:
    """A project's values for the fields of the portfolios holding it (then any stray values)."""
    store = r.store
    seen: list[str] = []
    for portfolio in store.portfolios.values():
        if project.gid not in portfolio.items:
            continue
        for setting_gid in portfolio.custom_field_settings:
            cf_gid = store.field_settings[setting_gid].custom_field
            if cf_gid not in seen:
                seen.append(cf_gid)
    seen += [g for g in project.custom_fields if g not in seen]
    return [
        Embedded("custom_field_value", (store.custom_fields[g], project.custom_fields.get(g)))
        for g in seen
        if g in store.custom_fields
    ]


def _task_projects(_r: Renderer, task: Task) -> list[Ref]:
    return [Ref(m["project"], "project") for m in task.memberships]


def _task_memberships(_r: Renderer, task: Task) -> list[Embedded]:
    return [Embedded("membership", m) for m in task.memberships]


def _permalink(_r: Renderer, task: Task) -> str:
    project = task.memberships[0]["project"] if task.memberships else "0"
    return f"https://app.asana.com/0/{project}/{task.gid}"


def _num_subtasks(_r: Renderer, task: Task) -> int:
    return len(task.subtasks)


TASK_FIELDS: dict[str, Resolver] = {
    "resource_type": _rtype,
    "name": _attr("name"),
    "resource_subtype": _attr("resource_subtype"),
    "approval_status": lambda _r, t: t.approval_status if t.resource_subtype == "approval" else _ABSENT,
    "assignee": _ref("assignee", "user"),
    "assigned_by": _ref("assigned_by", "user"),
    "assignee_status": lambda _r, t: "upcoming" if t.assignee else "inbox",
    "assignee_section": _const(None),
    "completed": _attr("completed"),
    "completed_at": _attr("completed_at"),
    "completed_by": _ref("completed_by", "user"),
    "created_at": _attr("created_at"),
    "created_by": _ref("created_by", "user"),
    "modified_at": _attr("modified_at"),
    "due_on": _attr("due_on"),
    "due_at": _attr("due_at"),
    "start_on": _attr("start_on"),
    "start_at": _attr("start_at"),
    "notes": _attr("notes"),
    "html_notes": lambda _r, t: (
        t.html_notes if t.html_notes is not None else f"<body>{_escape(t.notes)}</body>"
    ),
    "parent": _ref("parent", "task"),
    "projects": _task_projects,
    "memberships": _task_memberships,
    "tags": _refs("tags", "tag"),
    "followers": _refs("followers", "user"),
    "dependencies": _refs("dependencies", "task"),
    "dependents": _refs("dependents", "task"),
    "custom_fields": _task_custom_fields,
    "workspace": _ref("workspace", "workspace"),
    "num_subtasks": _num_subtasks,
    "num_likes": _const(0),
    "num_hearts": _const(0),
    "liked": _const(False),
    "likes": _const([]),
    "hearted": _const(False),
    "hearts": _const([]),
    "is_rendered_as_separator": _const(False),
    "actual_time_minutes": _const(None),
    "external": _attr("external"),
    "permalink_url": _permalink,
}
TASK_FULL = (
    "resource_type",
    "name",
    "resource_subtype",
    "approval_status",
    "assignee",
    "assignee_status",
    "completed",
    "completed_at",
    "completed_by",
    "created_at",
    # created_by is opt-in (asana_oas.yaml TaskResponse.created_by: "[Opt In]").
    "modified_at",
    "due_on",
    "due_at",
    "start_on",
    "start_at",
    "notes",
    "parent",
    "projects",
    "memberships",
    "tags",
    "followers",
    "custom_fields",
    "workspace",
    # num_subtasks is opt-in (asana_oas.yaml TaskResponse.num_subtasks: "[Opt In]").
    "num_likes",
    "liked",
    "likes",
    "hearted",
    "hearts",
    "num_hearts",
    "actual_time_minutes",
    "permalink_url",
)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _story_text(_r: Renderer, story: Story) -> str:
    return story.text


STORY_FIELDS: dict[str, Resolver] = {
    "resource_type": _rtype,
    "created_at": _attr("created_at"),
    "created_by": _ref("created_by", "user"),
    "type": _attr("type"),
    "resource_subtype": _attr("resource_subtype"),
    "text": _story_text,
    "html_text": lambda _r, s: s.html_text if s.html_text is not None else f"<body>{_escape(s.text)}</body>",
    "is_pinned": _attr("is_pinned"),
    "is_edited": _const(False),
    "is_editable": lambda _r, s: s.type == "comment",
    "source": _attr("source"),
    "target": _ref("target", "task"),
    "num_likes": _const(0),
    "liked": _const(False),
    "likes": _const([]),
    "hearted": _const(False),
    "hearts": _const([]),
    "num_hearts": _const(0),
    "previews": _const([]),
    "sticker_name": _attr("sticker_name"),
}
# StoryCompact has no `type` (deprecated; asana_oas.yaml StoryCompact): lists leave it out.
STORY_COMPACT = ("created_at", "created_by", "resource_type", "text", "resource_subtype")
STORY_FULL = (
    "created_at",
    "created_by",
    "resource_type",
    "text",
    "type",
    "resource_subtype",
    "is_pinned",
    "is_edited",
    "source",
    "target",
    "num_likes",
    "liked",
    "likes",
)


def _project_task_count(r: Renderer, project: Project) -> int:
    return len(r.store.project_tasks(project.gid))


PROJECT_FIELDS: dict[str, Resolver] = {
    "resource_type": _rtype,
    "name": _attr("name"),
    "archived": _attr("archived"),
    "color": _attr("color"),
    "completed": _attr("completed"),
    "completed_at": _attr("completed_at"),
    "created_at": _attr("created_at"),
    "modified_at": _attr("modified_at"),
    "current_status_update": _ref("current_status_update", "status_update"),
    "custom_field_settings": lambda _r, p: [Ref(g, "custom_field_setting") for g in p.custom_field_settings],
    "custom_fields": _project_custom_fields,
    "default_view": _attr("default_view"),
    "due_on": _attr("due_on"),
    "due_date": _attr("due_on"),
    "start_on": _attr("start_on"),
    "notes": _attr("notes"),
    "html_notes": lambda _r, p: (
        p.html_notes if p.html_notes is not None else f"<body>{_escape(p.notes)}</body>"
    ),
    "public": lambda _r, p: privacy_of(p) == "public_to_workspace",
    "privacy_setting": lambda _r, p: privacy_of(p),
    "members": _refs("members", "user"),
    "followers": _refs("members", "user"),
    "owner": _ref("owner", "user"),
    "team": _ref("team", "team"),
    "workspace": _ref("workspace", "workspace"),
    "permalink_url": lambda _r, p: f"https://app.asana.com/0/{p.gid}/{p.gid}",
    "icon": _const("list"),
    "num_tasks": _project_task_count,
}
PROJECT_FULL = (
    "resource_type",
    "name",
    "archived",
    "color",
    "completed",
    "completed_at",
    "created_at",
    "modified_at",
    "current_status_update",
    "custom_field_settings",
    "custom_fields",
    "default_view",
    "due_on",
    "due_date",
    "start_on",
    "notes",
    "public",
    "privacy_setting",
    "members",
    "followers",
    "owner",
    "team",
    "workspace",
    "permalink_url",
    "icon",
)

SECTION_FIELDS: dict[str, Resolver] = {
    "resource_type": _rtype,
    "name": _attr("name"),
    "created_at": _attr("created_at"),
    "project": _ref("project", "project"),
    "projects": lambda _r, s: [Ref(s.project, "project")],
}

USER_FIELDS: dict[str, Resolver] = {
    "resource_type": _rtype,
    "name": _attr("name"),
    "email": _attr("email"),
    "photo": _const(None),
    "workspaces": _refs("workspaces", "workspace"),
    "custom_fields": _const([]),
}

WORKSPACE_FIELDS: dict[str, Resolver] = {
    "resource_type": _rtype,
    "name": _attr("name"),
    "is_organization": _attr("is_organization"),
    "email_domains": _attr("email_domains"),
}

TEAM_FIELDS: dict[str, Resolver] = {
    "resource_type": _rtype,
    "name": _attr("name"),
    "description": _attr("description"),
    "html_description": lambda _r, t: f"<body>{_escape(t.description)}</body>",
    "organization": _ref("workspace", "workspace"),
    "permalink_url": lambda _r, t: f"https://app.asana.com/0/{t.gid}",
    "visibility": _const("members"),
}

ENUM_OPTION_FIELDS: dict[str, Resolver] = {
    "resource_type": _rtype,
    "name": _attr("name"),
    "enabled": _attr("enabled"),
    "color": _attr("color"),
}

CUSTOM_FIELD_FIELDS: dict[str, Resolver] = {
    "resource_type": _rtype,
    "name": _attr("name"),
    "resource_subtype": _attr("resource_subtype"),
    "type": _attr("resource_subtype"),
    "description": _attr("description"),
    "precision": lambda _r, c: c.precision if c.resource_subtype == "number" else _ABSENT,
    "format": _attr("format"),
    "enabled": _const(True),
    "enum_options": lambda _r, c: (
        [Ref(g, "enum_option") for g in c.enum_options]
        if c.resource_subtype in ("enum", "multi_enum")
        else _ABSENT
    ),
    "created_by": _ref("created_by", "user"),
    "is_global_to_workspace": _attr("is_global_to_workspace"),
    "has_notifications_enabled": _const(True),
    "is_formula_field": _const(False),
    "is_value_read_only": _const(False),
}

FIELD_SETTING_FIELDS: dict[str, Resolver] = {
    "resource_type": _rtype,
    "is_important": _attr("is_important"),
    "custom_field": lambda r, s: Embedded("custom_field_full", r.store.custom_fields[s.custom_field]),
    "parent": lambda r, s: Ref(s.parent, r.store.index[s.parent].resource_type),
    "project": lambda r, s: Ref(s.parent, "project") if s.parent in r.store.projects else _ABSENT,
}

TAG_FIELDS: dict[str, Resolver] = {
    "resource_type": _rtype,
    "name": _attr("name"),
    "color": _attr("color"),
    "notes": _attr("notes"),
    "created_at": _attr("created_at"),
    "followers": _const([]),
    "workspace": _ref("workspace", "workspace"),
    "permalink_url": lambda _r, t: f"https://app.asana.com/0/{t.gid}/list",
}

PORTFOLIO_FIELDS: dict[str, Resolver] = {
    "resource_type": _rtype,
    "name": _attr("name"),
    "color": _attr("color"),
    "created_at": _attr("created_at"),
    "created_by": _ref("owner", "user"),
    "owner": _ref("owner", "user"),
    "members": _refs("members", "user"),
    "start_on": _attr("start_on"),
    "due_on": _attr("due_on"),
    "public": _attr("public"),
    "workspace": _ref("workspace", "workspace"),
    "custom_field_settings": lambda _r, p: [Ref(g, "custom_field_setting") for g in p.custom_field_settings],
    "current_status_update": _ref("current_status_update", "status_update"),
    "permalink_url": lambda _r, p: f"https://app.asana.com/0/portfolio/{p.gid}/list",
}

STATUS_FIELDS: dict[str, Resolver] = {
    "resource_type": _rtype,
    "title": _attr("title"),
    "text": _attr("text"),
    "html_text": lambda _r, s: s.html_text if s.html_text is not None else f"<body>{_escape(s.text)}</body>",
    "status_type": _attr("status_type"),
    "resource_subtype": _attr("resource_subtype"),
    "author": _ref("author", "user"),
    "created_by": _ref("created_by", "user"),
    "created_at": _attr("created_at"),
    "modified_at": _attr("modified_at"),
    "parent": lambda r, s: (
        Ref(s.parent, r.store.index[s.parent].resource_type) if s.parent in r.store.index else None
    ),
    "hearted": _const(False),
    "num_hearts": _const(0),
    "liked": _const(False),
    "num_likes": _const(0),
}


def _download_url(r: Renderer, a: Attachment) -> str:
    return f"{r.root_url}/__sandbox/attachments/{a.gid}/content?sig={r.download_sig(a.gid)}"


ATTACHMENT_FIELDS: dict[str, Resolver] = {
    "resource_type": _rtype,
    "name": _attr("name"),
    "resource_subtype": _const("asana"),
    "created_at": _attr("created_at"),
    "download_url": _download_url,
    "view_url": _download_url,
    "permanent_url": lambda _r, a: f"https://app.asana.com/app/asana/-/get_asset?asset_id={a.gid}",
    "host": _const("asana"),
    "size": lambda _r, a: a.size,
    "parent": _ref("parent", "task"),
    "connected_to_app": _const(False),
}


def _webhook_resource(r: Renderer, w: Webhook) -> Any:
    record = r.store.index.get(w.resource)
    if record is None:
        return {"gid": w.resource, "resource_type": None}
    return Ref(w.resource, record.resource_type)


WEBHOOK_FIELDS: dict[str, Resolver] = {
    "resource_type": _rtype,
    "active": _attr("active"),
    "resource": _webhook_resource,
    "target": _attr("target"),
    "created_at": _attr("created_at"),
    "filters": _attr("filters"),
    "last_success_at": _attr("last_success_at"),
    "last_failure_at": _attr("last_failure_at"),
    "last_failure_content": _attr("last_failure_content"),
    "delivery_retry_count": _attr("delivery_retry_count"),
    "next_attempt_after": _attr("next_attempt_after"),
    "failure_deletion_timestamp": _attr("failure_deletion_timestamp"),
}


# ---- goals (asana_oas.yaml GoalResponse, GoalMetricBase, GoalRelationshipBase) ---------------
def _goal_metric(_r: Renderer, g: Goal) -> Embedded | None:
    return Embedded("goal_metric", g) if g.metric is not None else None


def _metric_value(name: str) -> Resolver:
    return lambda _r, g: g.metric[name]


def _metric_current(r: Renderer, g: Goal) -> float | None:
    return goal_current_value(r.store, g)


GOAL_METRIC_FIELDS: dict[str, Resolver] = {
    "resource_type": _const("goal_metric"),
    "resource_subtype": _metric_value("resource_subtype"),
    "precision": _metric_value("precision"),
    "unit": _metric_value("unit"),
    "currency_code": _metric_value("currency_code"),
    "initial_number_value": _metric_value("initial_number_value"),
    "target_number_value": _metric_value("target_number_value"),
    "current_number_value": _metric_current,
    "current_display_value": lambda r, g: format_number(_metric_current(r, g), int(g.metric["precision"])),
    "progress_source": _metric_value("progress_source"),
    "is_custom_weight": _metric_value("is_custom_weight"),
    "can_manage": lambda _r, g: g.metric["progress_source"] == "external",
}

GOAL_FIELDS: dict[str, Resolver] = {
    "resource_type": _rtype,
    "name": _attr("name"),
    "notes": _attr("notes"),
    "html_notes": lambda _r, g: (
        g.html_notes if g.html_notes is not None else f"<body>{_escape(g.notes)}</body>"
    ),
    "due_on": _attr("due_on"),
    "start_on": _attr("start_on"),
    "is_workspace_level": _attr("is_workspace_level"),
    "liked": _const(False),
    "likes": _const([]),
    "num_likes": _const(0),
    "team": _ref("team", "team"),
    "workspace": _ref("workspace", "workspace"),
    "followers": _refs("followers", "user"),
    "time_period": _ref("time_period", "time_period"),
    "metric": _goal_metric,
    "owner": _ref("owner", "user"),
    "current_status_update": _const(None),
    "status": _attr("status"),
    "privacy_setting": _attr("privacy_setting"),
    "custom_fields": _const([]),
    "custom_field_settings": _const([]),
}

GOAL_RELATIONSHIP_FIELDS: dict[str, Resolver] = {
    "resource_type": _rtype,
    "resource_subtype": _attr("resource_subtype"),
    "supporting_resource": lambda r, rel: (
        Ref(rel.supporting_resource, r.store.index[rel.supporting_resource].resource_type)
        if rel.supporting_resource in r.store.index
        else None
    ),
    "contribution_weight": _attr("contribution_weight"),
    "supported_goal": _ref("supported_goal", "goal"),
}
GOAL_RELATIONSHIP_COMPACT = (
    "resource_type",
    "resource_subtype",
    "supporting_resource",
    "contribution_weight",
)


def _membership_fields() -> dict[str, Resolver]:
    return {
        "project": lambda _r, m: Ref(m["project"], "project"),
        "section": lambda _r, m: Ref(m["section"], "section") if m.get("section") else None,
    }


SPECS: dict[str, Spec] = {
    "task": Spec(TASK_FIELDS, ("name", "resource_type", "resource_subtype"), TASK_FULL),
    "story": Spec(STORY_FIELDS, STORY_COMPACT, STORY_FULL),
    "project": Spec(PROJECT_FIELDS, ("name", "resource_type"), PROJECT_FULL),
    "section": Spec(
        SECTION_FIELDS,
        ("name", "resource_type"),
        ("name", "resource_type", "created_at", "project", "projects"),
    ),
    "user": Spec(
        USER_FIELDS, ("name", "resource_type"), ("name", "resource_type", "email", "photo", "workspaces")
    ),
    "workspace": Spec(
        WORKSPACE_FIELDS,
        ("name", "resource_type"),
        ("name", "resource_type", "is_organization", "email_domains"),
    ),
    "team": Spec(
        TEAM_FIELDS,
        ("name", "resource_type"),
        (
            "name",
            "resource_type",
            "description",
            "html_description",
            "organization",
            "permalink_url",
            "visibility",
        ),
    ),
    "enum_option": Spec(
        ENUM_OPTION_FIELDS,
        ("name", "resource_type", "enabled", "color"),
        ("name", "resource_type", "enabled", "color"),
    ),
    "custom_field": Spec(
        CUSTOM_FIELD_FIELDS,
        (
            "name",
            "resource_type",
            "resource_subtype",
            "type",
            "enum_options",
            "precision",
            "enabled",
            "format",
            "is_formula_field",
        ),
        tuple(CUSTOM_FIELD_FIELDS),
    ),
    "custom_field_full": Spec(CUSTOM_FIELD_FIELDS, tuple(CUSTOM_FIELD_FIELDS), tuple(CUSTOM_FIELD_FIELDS)),
    "custom_field_setting": Spec(
        FIELD_SETTING_FIELDS,
        ("resource_type", "is_important", "custom_field", "parent", "project"),
        tuple(FIELD_SETTING_FIELDS),
    ),
    "custom_field_value": Spec(_cf_entry_fields(), CF_ENTRY_DEFAULT, CF_ENTRY_DEFAULT),
    "membership": Spec(_membership_fields(), ("project", "section"), ("project", "section")),
    "tag": Spec(TAG_FIELDS, ("name", "resource_type"), tuple(TAG_FIELDS)),
    "portfolio": Spec(PORTFOLIO_FIELDS, ("name", "resource_type"), tuple(PORTFOLIO_FIELDS)),
    "status_update": Spec(
        STATUS_FIELDS, ("title", "resource_type", "resource_subtype"), tuple(STATUS_FIELDS)
    ),
    "attachment": Spec(
        ATTACHMENT_FIELDS, ("name", "resource_type", "resource_subtype"), tuple(ATTACHMENT_FIELDS)
    ),
    "webhook": Spec(WEBHOOK_FIELDS, ("resource_type", "active", "resource", "target"), tuple(WEBHOOK_FIELDS)),
    "goal": Spec(GOAL_FIELDS, ("name", "resource_type", "owner"), tuple(GOAL_FIELDS)),
    # Embedded in its goal (no gid of its own here): every field, as the full goal shows it.
    "goal_metric": Spec(GOAL_METRIC_FIELDS, tuple(GOAL_METRIC_FIELDS), tuple(GOAL_METRIC_FIELDS)),
    "goal_relationship": Spec(
        GOAL_RELATIONSHIP_FIELDS, GOAL_RELATIONSHIP_COMPACT, tuple(GOAL_RELATIONSHIP_FIELDS)
    ),
}
# Embedded objects have no gid of their own (membership) or borrow the custom field's.
_NO_GID = {"membership"}


# Fields of a custom-field value that depend on the custom field alone (not on the task's value):
# rendered once per field for a whole list (see `Renderer.render_many`).
_CF_STATIC = frozenset(
    {
        "name",
        "resource_type",
        "resource_subtype",
        "type",
        "enabled",
        "description",
        "precision",
        "format",
        "is_formula_field",
        "is_value_read_only",
        "created_by",
        "enum_options",
    }
)
_MISSING = object()
_SCALARS = (str, int, float, bool, type(None))
# (output name, resolver, sub-tree, attribute the resolver just reads or None)
Step = tuple[str, Resolver | None, FieldTree | None, str | None]


class Renderer:
    """Renders records for one request (knows the store and the public root URL).

    Field plans (which resolver and sub-tree each output name uses) are computed once per
    (resource type, field tree) and reused. `render_many` also shares, across the records of
    one list, what they have in common: referenced records rendered with sub-fields (assignee,
    sections, enum options), custom-field definitions and each project's field settings.
    """

    store: Store
    root_url: str

    def __init__(self, store: Store, root_url: str = "", sign: Callable[[str], str] | None = None) -> None:
        self.store = store
        self.root_url = root_url.rstrip("/")
        self._sign = sign
        self._plans: dict[tuple[str, int, bool], tuple[FieldTree | None, list[Step]]] = {}
        # Active only inside render_many, while the caller holds store.lock (nothing changes).
        self._memo: dict[Any, Any] | None = None

    def download_sig(self, gid: str) -> str:
        return self._sign(gid) if self._sign else ""

    def render(self, record: Record, tree: FieldTree | None, *, full: bool) -> dict[str, Any]:
        return self._object(record.resource_type, record.gid, record, tree, full)

    def render_many(
        self, records: Iterable[Record], tree: FieldTree | None, *, full: bool = False
    ) -> list[dict[str, Any]]:
        """`render` for each record of a list; call with store.lock held (shared lookups).

        Records go through plans compiled per (record type, tree) (`sandbox.serialize_plan`),
        with caches that live as long as this call."""
        from sandbox.serialize_plan import plan_for

        outer = self._memo
        self._memo = {} if outer is None else outer
        try:
            out: list[dict[str, Any]] = []
            plans: dict[type, tuple[Callable[..., dict[str, Any]], list[dict[Any, Any]]]] = {}
            for record in records:
                record_type = type(record)
                if isinstance(record, Story):
                    out.append(self._object(record.resource_type, record.gid, record, tree, full))
                    continue
                entry = plans.get(record_type)
                if entry is None:
                    plan = plan_for(record_type, record.resource_type, tree, full)
                    entry = plans[record_type] = (plan.render, [{} for _ in range(plan.caches)])
                render, caches = entry
                out.append(render(self, record, caches))
            return out
        finally:
            self._memo = outer

    def memo(self) -> dict[Any, Any] | None:
        """The list-wide lookup cache while `render_many` runs, else None."""
        return self._memo

    def _plan(self, kind: str, tree: FieldTree | None, full: bool) -> list[Step]:
        key = (kind, id(tree), full)
        hit = self._plans.get(key)
        if hit is not None and hit[0] is tree:  # the tree is held, so its id is not reused
            return hit[1]
        spec = SPECS[kind]
        names = tree.keys() if tree is not None else (spec.full if full else spec.compact)
        steps: list[Step] = []
        for name in names:
            resolver = spec.fields.get(name)
            sub = (tree.get(name) or None) if tree is not None else None
            steps.append((name, resolver, sub, getattr(resolver, "attr_name", None)))
        self._plans[key] = (tree, steps)
        return steps

    def _object(
        self, kind: str, gid: str | None, obj: Any, tree: FieldTree | None, full: bool
    ) -> dict[str, Any]:
        if isinstance(obj, Story):
            return self._story_object(gid, obj, tree, full)
        out: dict[str, Any] = {} if gid is None else {"gid": gid}
        explicit = tree is not None
        for name, resolver, sub, attr in self._plan(kind, tree, full):
            if attr is not None:
                value = getattr(obj, attr)
            elif resolver is None:
                continue
            else:
                value = resolver(self, obj)
            if value is _ABSENT:
                continue
            out[name] = value if type(value) in _SCALARS else self._value(value, sub, explicit)
        return out

    def _story_object(
        self, gid: str | None, obj: Story, tree: FieldTree | None, full: bool
    ) -> dict[str, Any]:
        # Stories also carry structured fields of their own (old_section, new_value, ...).
        out: dict[str, Any] = {} if gid is None else {"gid": gid}
        for name, resolver, sub, _attr_name in self._plan("story", tree, full):
            if resolver is None:
                if name not in obj.fields:
                    continue
                value: Any = self._story_field(obj.fields[name])
            else:
                value = resolver(self, obj)
                if value is _ABSENT:
                    continue
            out[name] = self._value(value, sub, explicit=tree is not None)
        if tree is None and full:
            for name, raw in obj.fields.items():
                out[name] = self._value(self._story_field(raw), None, explicit=False)
        return out

    def _story_field(self, raw: Any) -> Any:
        if isinstance(raw, dict) and set(raw) == {"gid", "resource_type"}:
            return Ref(raw["gid"], raw["resource_type"])
        if isinstance(raw, list):
            return [self._story_field(v) for v in raw]
        return raw

    def _value(self, value: Any, sub: FieldTree | None, explicit: bool) -> Any:
        kind = type(value)
        if kind is list:  # the common containers first: lists of refs or custom-field values
            return [self._value(v, sub, explicit) for v in value]
        if kind is Ref:
            return self._ref(value, sub, explicit)
        if kind is Embedded:
            if value.kind == "custom_field_value":
                return self._cf_value_object(value.value, sub)
            return self._embedded(value, sub)
        if isinstance(value, Ref):
            return self._ref(value, sub, explicit)
        if isinstance(value, Embedded):
            return self._embedded(value, sub)
        if isinstance(value, list):
            return [self._value(v, sub, explicit) for v in value]
        return value

    def _ref(self, ref: Ref, sub: FieldTree | None, explicit: bool) -> dict[str, Any]:
        record = self.store.index.get(ref.gid)
        if record is None:
            return {"gid": ref.gid, "resource_type": ref.resource_type}
        if not sub and explicit:
            return {"gid": ref.gid, "resource_type": record.resource_type}
        memo = self._memo
        if memo is None:
            return self._object(record.resource_type, record.gid, record, sub or None, False)
        key = ("ref", ref.gid, id(sub) if sub else 0)
        hit: dict[str, Any] | None = memo.get(key)
        if hit is None:
            hit = memo[key] = self._object(record.resource_type, record.gid, record, sub or None, False)
        return hit

    def _embedded(self, value: Embedded, sub: FieldTree | None) -> dict[str, Any]:
        if value.kind == "custom_field_value":
            return self._cf_value_object(value.value, sub)
        memo = self._memo
        if value.kind == "membership" and memo is not None:
            # A membership renders from its project and section gids alone: shared per list.
            key = ("membership", value.value["project"], value.value.get("section"), id(sub))
            hit: dict[str, Any] | None = memo.get(key)
            if hit is None:
                hit = memo[key] = self._object("membership", None, value.value, sub, False)
            return hit
        gid = value.value.gid if value.kind == "custom_field_full" else None
        return self._object(value.kind, gid, value.value, sub, False)

    def _cf_value_object(self, entry: tuple[CustomField, Any], sub: FieldTree | None) -> dict[str, Any]:
        memo = self._memo
        if memo is None:
            return self._object("custom_field_value", entry[0].gid, entry, sub, False)
        # Most values repeat across a list (estimates, enum options): the whole entry is shared.
        # Keyed by type too (1, 1.0 and True are equal keys); -0.0 == 0.0 prints differently.
        raw = entry[1]
        raw_type = type(raw)
        whole_key: tuple[Any, ...] | None = None
        if raw_type in _SCALARS and not (raw_type is float and raw == 0.0):
            whole_key = ("cf_value", entry[0].gid, id(sub), raw_type, raw)
        elif raw_type is list and all(type(v) is str for v in raw):
            whole_key = ("cf_value", entry[0].gid, id(sub), list, tuple(raw))
        if whole_key is not None:
            shared: dict[str, Any] | None = memo.get(whole_key)
            if shared is not None:
                return shared
        key = ("cf", entry[0].gid, id(sub))
        static: dict[str, Any] | None = memo.get(key)
        if static is None:
            static = memo[key] = {}
        out: dict[str, Any] = {"gid": entry[0].gid}
        explicit = sub is not None
        for name, resolver, child, _attr_name in self._plan("custom_field_value", sub, False):
            if resolver is None:
                continue
            if name in _CF_STATIC:
                value = static.get(name, _MISSING)
                if value is _MISSING:
                    raw = resolver(self, entry)
                    value = static[name] = raw if raw is _ABSENT else self._value(raw, child, explicit)
            else:
                value = resolver(self, entry)
                if value is not _ABSENT and type(value) not in _SCALARS:
                    value = self._value(value, child, explicit)
            if value is not _ABSENT:
                out[name] = value
        if whole_key is not None:
            memo[whole_key] = out
        return out


def event_json(store: Store, event: Event) -> dict[str, Any]:
    """Event payload as webhooks and the events API send it (compact refs only)."""
    return (
        {
            "user": {"gid": event.user, "resource_type": "user"} if event.user else None,
            "created_at": event.created_at,
            "action": event.action,
            "resource": dict(event.resource),
            "parent": dict(event.parent) if event.parent else None,
            "change": dict(event.change) if event.change else None,
            "type": event.resource.get("resource_type"),
        }
        if event.change
        else {
            "user": {"gid": event.user, "resource_type": "user"} if event.user else None,
            "created_at": event.created_at,
            "action": event.action,
            "resource": dict(event.resource),
            "parent": dict(event.parent) if event.parent else None,
            "type": event.resource.get("resource_type"),
        }
    )
