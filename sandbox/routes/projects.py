"""Project endpoints: CRUD, members, sections, custom field settings, task counts."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from starlette.responses import Response

from sandbox import richtext
from sandbox.access import PRIVACY_SETTINGS
from sandbox.actions.custom_values import validate_project_values
from sandbox.actions.field_settings import add_setting, remove_setting
from sandbox.actions.tasks import gid_list
from sandbox.context import Ctx, build_ctx, json_response
from sandbox.errors import bad_request
from sandbox.events import change, emit
from sandbox.records import Project, Record

router = APIRouter()

_PROJECT_WRITABLE = (
    "name",
    "notes",
    "color",
    "archived",
    "public",
    "privacy_setting",
    "due_on",
    "start_on",
    "default_view",
    "completed",
)


def _list_projects(ctx: Ctx, workspace: str | None, team: str | None) -> Response:
    projects = list(ctx.store.projects.values())
    if workspace:
        ctx.need_workspace(workspace)
        projects = [p for p in projects if p.workspace == workspace]
    else:
        projects = [p for p in projects if p.workspace in ctx.user.workspaces]
    if team:
        ctx.need(team, "team", field="team")
        projects = [p for p in projects if p.team == team]
    projects = [p for p in projects if ctx.sees(p)]
    archived = ctx.query("archived")
    if archived is not None:
        projects = [p for p in projects if p.archived == (archived == "true")]
    records: list[Record] = list(projects)
    return ctx.page(records)


@router.get("/projects")
def get_projects(ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        return _list_projects(ctx, ctx.query("workspace"), ctx.query("team"))


@router.get("/workspaces/{workspace_gid}/projects")
def get_projects_for_workspace(workspace_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        ctx.need(workspace_gid, "workspace")
        return _list_projects(ctx, workspace_gid, None)


@router.get("/teams/{team_gid}/projects")
def get_projects_for_team(team_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        team = ctx.need(team_gid, "team")
        return _list_projects(ctx, team.workspace, team_gid)


def _checked_privacy(data: dict[str, Any]) -> None:
    # asana_oas.yaml ProjectBase.privacy_setting: enum public_to_workspace | private_to_team | private
    if "privacy_setting" in data and data["privacy_setting"] not in PRIVACY_SETTINGS:
        raise bad_request(f"privacy_setting: Not a valid enum value: {data['privacy_setting']}")


def _notes(data: dict[str, Any]) -> tuple[str, str | None]:
    """(notes, html_notes) of a write: rich notes are validated and give the plain notes."""
    if data.get("html_notes") is None:
        return str(data.get("notes") or ""), None
    html_notes, notes = richtext.validated("html_notes", data["html_notes"], "notes")
    return notes, html_notes


def _create_project(ctx: Ctx, workspace: str | None, team: str | None) -> Response:
    data = ctx.data()
    workspace = workspace or data.get("workspace")
    team = team or data.get("team")
    if team:
        team_record = ctx.need(str(team), "team", field="team")
        workspace = workspace or team_record.workspace
        if team_record.workspace != workspace:
            raise bad_request("team: The team is not in the project's workspace")
    if not workspace:
        raise bad_request("workspace: Missing input")
    ctx.need_workspace(str(workspace))
    # asana_oas.yaml paths./projects.post: "If the workspace for your project is an organization,
    # you must also supply a `team`".
    if not team and ctx.store.workspaces[str(workspace)].is_organization:
        raise bad_request("team: Missing input")
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise bad_request("name: Missing input")
    owner = ctx.resolve_user(data.get("owner", "me"), "owner")
    _checked_privacy(data)
    notes, html_notes = _notes(data)
    project = ctx.store.add_project(
        str(workspace),
        name,
        team=str(team) if team else None,
        owner=owner,
        notes=notes,
        color=data.get("color"),
        start_on=data.get("start_on"),
        due_on=data.get("due_on"),
        public=bool(data.get("public", True)),
        default_view=str(data.get("default_view") or "list"),
        members=[ctx.user.gid],
    )
    project.html_notes = html_notes
    project.privacy_setting = data.get("privacy_setting")
    # Asana gives every new project one section, so tasks always have a section membership.
    ctx.store.add_section(project.gid, "Untitled section")
    emit(ctx.store, project, "added", user=ctx.user.gid, parent=ctx.store.workspaces[project.workspace])
    return ctx.one(project, 201)


@router.post("/projects")
def create_project(ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        return _create_project(ctx, None, None)


@router.post("/workspaces/{workspace_gid}/projects")
def create_project_for_workspace(workspace_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        return _create_project(ctx, workspace_gid, None)


@router.post("/teams/{team_gid}/projects")
def create_project_for_team(team_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        return _create_project(ctx, None, team_gid)


@router.get("/projects/{project_gid}")
def get_project(project_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        return ctx.one(ctx.need(project_gid, "project"))


@router.put("/projects/{project_gid}")
def update_project(project_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        project: Project = ctx.need(project_gid, "project")
        data = ctx.data()
        # Validated before anything changes, so a bad value leaves the project as it was.
        values = (
            validate_project_values(ctx.store, project, data["custom_fields"])
            if data.get("custom_fields") is not None
            else {}
        )
        _checked_privacy(data)
        rich = _notes(data) if "notes" in data or "html_notes" in data else None
        if rich is not None:
            data = {**data, "notes": rich[0]}
        if "owner" in data:
            project.owner = ctx.resolve_user(data["owner"], "owner")
        if rich is not None:
            project.html_notes = rich[1]
        for key in _PROJECT_WRITABLE:
            if key in data and getattr(project, key) != data[key]:
                setattr(project, key, data[key])
                emit(ctx.store, project, "changed", user=ctx.user.gid, change=change(key))
        if "public" in data and "privacy_setting" not in data:
            project.privacy_setting = None  # the deprecated flag alone decides again
        for cf_gid, value in values.items():
            if project.custom_fields.get(cf_gid) == value:
                continue
            project.custom_fields[cf_gid] = value
            subtype = ctx.store.custom_fields[cf_gid].resource_subtype
            ref = {"gid": cf_gid, "resource_type": "custom_field", "resource_subtype": subtype}
            emit(ctx.store, project, "changed", user=ctx.user.gid, change=change("custom_fields", value=ref))
        if data.get("completed") is True and project.completed_at is None:
            project.completed_at = ctx.store.now()
        project.modified_at = ctx.store.now()
        return ctx.one(project)


@router.delete("/projects/{project_gid}")
def delete_project(project_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        project: Project = ctx.need(project_gid, "project")
        for task_gid in ctx.store.project_tasks(project_gid):
            ctx.store.remove_task_from_project(task_gid, project_gid)
        for section_gid in project.sections:
            ctx.store.remove(section_gid)
        for setting_gid in project.custom_field_settings:
            ctx.store.remove(setting_gid)
        for portfolio in ctx.store.portfolios.values():
            if project_gid in portfolio.items:
                portfolio.items.remove(project_gid)
        emit(ctx.store, project, "deleted", user=ctx.user.gid)
        ctx.store.remove(project_gid)
        return ctx.empty()


def _members(ctx: Ctx, project_gid: str, remove: bool) -> Response:
    with ctx.lock:
        project: Project = ctx.need(project_gid, "project")
        data = ctx.data()
        if "members" not in data:
            raise bad_request("members: Missing input")
        users = [ctx.resolve_user(u, "members") or "" for u in gid_list(data["members"], "members")]
        for user in users:
            if remove and user in project.members:
                project.members.remove(user)
            elif not remove and user not in project.members:  # membership never duplicates
                project.members.append(user)
        return ctx.one(project)


@router.post("/projects/{project_gid}/addMembers")
def add_members(project_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    return _members(ctx, project_gid, remove=False)


@router.post("/projects/{project_gid}/removeMembers")
def remove_members(project_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    return _members(ctx, project_gid, remove=True)


@router.post("/projects/{project_gid}/addFollowers")
def add_project_followers(project_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        project: Project = ctx.need(project_gid, "project")
        data = ctx.data()
        for user in gid_list(data.get("followers"), "followers"):
            gid = ctx.resolve_user(user, "followers")
            if gid and gid not in project.members:
                project.members.append(gid)
        return ctx.one(project)


@router.get("/projects/{project_gid}/project_memberships")
def get_project_memberships(project_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        project: Project = ctx.need(project_gid, "project")
        users: list[Record] = [ctx.store.users[u] for u in project.members if u in ctx.store.users]
        return ctx.page(users)


@router.get("/projects/{project_gid}/sections")
def get_sections(project_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        project: Project = ctx.need(project_gid, "project")
        return ctx.page([ctx.store.sections[s] for s in project.sections])


@router.post("/projects/{project_gid}/sections")
def create_section(project_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        project: Project = ctx.need(project_gid, "project")
        data = ctx.data()
        name = data.get("name")
        if not isinstance(name, str) or not name:
            raise bad_request("name: Missing input")
        index = None
        for key, shift in (("insert_before", 0), ("insert_after", 1)):
            anchor = data.get(key)
            if anchor is not None:
                if anchor not in project.sections:
                    raise bad_request(f"{key}: Section is not in this project")
                index = project.sections.index(anchor) + shift
        section = ctx.store.add_section(project_gid, name, index=index)
        emit(ctx.store, section, "added", user=ctx.user.gid, parent=project)
        return ctx.one(section, 201)


@router.post("/projects/{project_gid}/sections/insert")
def insert_section(project_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        project: Project = ctx.need(project_gid, "project")
        data = ctx.data()
        section = ctx.need(str(data.get("section")), "section", field="section")
        anchor = data.get("before_section") or data.get("after_section")
        if anchor not in project.sections or section.gid not in project.sections:
            raise bad_request("section: Sections must belong to the project")
        project.sections.remove(section.gid)
        index = project.sections.index(anchor) + (0 if data.get("before_section") else 1)
        project.sections.insert(index, section.gid)
        return ctx.empty()


@router.get("/projects/{project_gid}/custom_field_settings")
def get_custom_field_settings(project_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        project: Project = ctx.need(project_gid, "project")
        return ctx.page([ctx.store.field_settings[s] for s in project.custom_field_settings])


@router.post("/projects/{project_gid}/addCustomFieldSetting")
def add_custom_field_setting(project_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        project: Project = ctx.need(project_gid, "project")
        return add_setting(ctx, project, "project")


@router.post("/projects/{project_gid}/removeCustomFieldSetting")
def remove_custom_field_setting(project_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        project: Project = ctx.need(project_gid, "project")
        return remove_setting(ctx, project, "project")


@router.get("/projects/{project_gid}/task_counts")
def get_task_counts(project_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        ctx.need(project_gid, "project")
        tasks = [ctx.store.tasks[g] for g in ctx.store.project_tasks(project_gid)]
        milestones = [t for t in tasks if t.resource_subtype == "milestone"]
        counts = {
            "num_tasks": len(tasks),
            "num_completed_tasks": sum(t.completed for t in tasks),
            "num_incomplete_tasks": sum(not t.completed for t in tasks),
            "num_milestones": len(milestones),
            "num_completed_milestones": sum(t.completed for t in milestones),
            "num_incomplete_milestones": sum(not t.completed for t in milestones),
        }
        # asana_oas.yaml: paths./projects/{project_gid}/task_counts.get: "All fields are excluded
        # by default. You must opt in using `opt_fields`".
        tree = ctx.tree or {}
        counts = {k: v for k, v in counts.items() if k in tree}
        return json_response({"data": counts})
