"""Task endpoints: CRUD, lists, subtasks, parent, dependencies, projects, tags, followers."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends
from starlette.responses import Response

from sandbox.actions import tasks as actions
from sandbox.context import Ctx, build_ctx
from sandbox.errors import bad_request
from sandbox.records import Task

router = APIRouter()

# asana_oas.yaml: paths./workspaces/{workspace_gid}/tasks/search.get parameters (plus `limit`, which
# the endpoint pages by, and `custom_fields.{gid}.{op}` filters). Anything else is refused.
SEARCH_PARAMS = frozenset(
    [
        "opt_pretty",
        "opt_fields",
        "limit",
        "text",
        "resource_subtype",
        "assignee.any",
        "assignee.not",
        "portfolios.any",
        "projects.any",
        "projects.not",
        "projects.all",
        "sections.any",
        "sections.not",
        "sections.all",
        "tags.any",
        "tags.not",
        "tags.all",
        "teams.any",
        "followers.any",
        "followers.not",
        "created_by.any",
        "created_by.not",
        "assigned_by.any",
        "assigned_by.not",
        "liked_by.not",
        "commented_on_by.not",
        "due_on.before",
        "due_on.after",
        "due_on",
        "due_at.before",
        "due_at.after",
        "start_on.before",
        "start_on.after",
        "start_on",
        "created_on.before",
        "created_on.after",
        "created_on",
        "created_at.before",
        "created_at.after",
        "completed_on.before",
        "completed_on.after",
        "completed_on",
        "completed_at.before",
        "completed_at.after",
        "modified_on.before",
        "modified_on.after",
        "modified_on",
        "modified_at.before",
        "modified_at.after",
        "is_blocking",
        "is_blocked",
        "has_attachment",
        "completed",
        "is_subtask",
        "sort_by",
        "sort_ascending",
    ]
)
SEARCH_SORTS = frozenset({"due_date", "created_at", "completed_at", "likes", "modified_at"})
_CUSTOM_FIELD_FILTER = re.compile(
    r"custom_fields\.\d+\.(is_set|value|starts_with|ends_with|contains|less_than|greater_than)"
)


def _since_filter(ctx: Ctx, tasks: Iterable[Task]) -> Iterator[Task]:
    """`completed_since` (incomplete or completed after) and `modified_since` filters.

    Lazy (the bounds are checked at once): a page only filters as far as it reads."""
    completed_since = ctx.query("completed_since")
    modified_since = ctx.query("modified_since")
    out: Iterator[Task] = iter(tasks)
    if completed_since is not None:
        if completed_since == "now":
            out = (t for t in out if not t.completed)
        else:
            done_after = _parse_stamp(completed_since, "completed_since")
            out = (
                t
                for t in out
                if not t.completed or (t.completed_at and _parse_stamp(t.completed_at) >= done_after)
            )
    if modified_since is not None:
        changed_after = _parse_stamp(modified_since, "modified_since")
        out = (t for t in out if _parse_stamp(t.modified_at) >= changed_after)
    return out


def _parse_stamp(value: str, field: str = "timestamp") -> datetime:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise bad_request(f"{field}: Invalid date-time") from None
    if parsed.tzinfo is None:
        from datetime import UTC

        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def task_page(ctx: Ctx, gids: list[str]) -> Response:
    # Lazy to the end: a page checks privacy and filters only up to its last task (+1).
    return ctx.page(_since_filter(ctx, ctx.visible_tasks(gids)))


@router.get("/tasks")
def get_tasks(ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        project, section, tag = ctx.query("project"), ctx.query("section"), ctx.query("tag")
        assignee, workspace = ctx.query("assignee"), ctx.query("workspace")
        chosen = [x for x in (project, section, tag) if x]
        if len(chosen) > 1 or (not chosen and not (assignee and workspace)):
            raise bad_request(
                "Must specify exactly one of project, tag, section, user task list, or assignee + workspace"
            )
        if project:
            ctx.need(project, "project", field="project")
            gids = ctx.store.project_tasks(project)
        elif section:
            gids = list(ctx.need(section, "section", field="section").tasks)
        elif tag:
            ctx.need(tag, "tag", field="tag")
            gids = [t.gid for t in ctx.store.tasks.values() if tag in t.tags]
        else:
            assert assignee is not None and workspace is not None
            ctx.need_workspace(workspace)
            user = ctx.resolve_user(assignee, "assignee")
            gids = [
                t.gid for t in ctx.store.tasks.values() if t.assignee == user and t.workspace == workspace
            ]
        if assignee and chosen:
            user = ctx.resolve_user(assignee, "assignee")
            gids = [g for g in gids if ctx.store.tasks[g].assignee == user]
        return task_page(ctx, gids)


@router.post("/tasks")
def create_task(ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        task = actions.create_task(ctx, ctx.data())
        return ctx.one(task, 201)


@router.get("/tasks/{task_gid}")
def get_task(task_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        return ctx.one(ctx.need(task_gid, "task"))


@router.put("/tasks/{task_gid}")
def update_task(task_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        task = ctx.need(task_gid, "task")
        actions.update_task(ctx, task, ctx.data())
        return ctx.one(task)


@router.delete("/tasks/{task_gid}")
def delete_task(task_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        actions.delete_task(ctx, ctx.need(task_gid, "task"))
        return ctx.empty()


@router.get("/tasks/{task_gid}/subtasks")
def get_subtasks(task_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        return task_page(ctx, list(ctx.need(task_gid, "task").subtasks))


@router.post("/tasks/{task_gid}/subtasks")
def create_subtask(task_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        parent = ctx.need(task_gid, "task")
        return ctx.one(actions.create_task(ctx, ctx.data(), parent=parent), 201)


@router.post("/tasks/{task_gid}/setParent")
def set_parent(task_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        task = ctx.need(task_gid, "task")
        data = ctx.data()
        if "parent" not in data:
            raise bad_request("parent: Missing input")
        actions.set_parent(ctx, task, data["parent"], data.get("insert_before"), data.get("insert_after"))
        return ctx.one(task)


def _links(ctx: Ctx, key: str) -> list[str]:
    data = ctx.data()
    if key not in data:
        raise bad_request(f"{key}: Missing input")
    return actions.gid_list(data[key], key)


@router.post("/tasks/{task_gid}/addDependencies")
def add_dependencies(task_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        actions.add_dependencies(ctx, ctx.need(task_gid, "task"), _links(ctx, "dependencies"))
        return ctx.empty()


@router.post("/tasks/{task_gid}/addDependents")
def add_dependents(task_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        actions.add_dependencies(
            ctx, ctx.need(task_gid, "task"), _links(ctx, "dependents"), as_dependents=True
        )
        return ctx.empty()


@router.post("/tasks/{task_gid}/removeDependencies")
def remove_dependencies(task_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        actions.remove_dependencies(ctx, ctx.need(task_gid, "task"), _links(ctx, "dependencies"))
        return ctx.empty()


@router.post("/tasks/{task_gid}/removeDependents")
def remove_dependents(task_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        actions.remove_dependencies(
            ctx, ctx.need(task_gid, "task"), _links(ctx, "dependents"), as_dependents=True
        )
        return ctx.empty()


@router.get("/tasks/{task_gid}/dependencies")
def get_dependencies(task_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        return task_page(ctx, list(ctx.need(task_gid, "task").dependencies))


@router.get("/tasks/{task_gid}/dependents")
def get_dependents(task_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        return task_page(ctx, list(ctx.need(task_gid, "task").dependents))


@router.post("/tasks/{task_gid}/addProject")
def add_project(task_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        task = ctx.need(task_gid, "task")
        data = ctx.data()
        if not data.get("project"):
            raise bad_request("project: Missing input")
        project = ctx.need(str(data["project"]), "project", field="project")
        section = ctx.need(str(data["section"]), "section", field="section") if data.get("section") else None
        # asana_oas.yaml TaskAddProjectRequest: `insert_after: null` = beginning of the list/section.
        at_top = "insert_after" in data and data["insert_after"] is None and data.get("insert_before") is None
        actions.place_in_project(
            ctx, task, project, section, data.get("insert_before"), data.get("insert_after"), at_top=at_top
        )
        return ctx.empty()


@router.post("/tasks/{task_gid}/removeProject")
def remove_project(task_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        task = ctx.need(task_gid, "task")
        data = ctx.data()
        if not data.get("project"):
            raise bad_request("project: Missing input")
        actions.remove_from_project(ctx, task, ctx.need(str(data["project"]), "project", field="project"))
        return ctx.empty()


@router.get("/tasks/{task_gid}/projects")
def get_projects_for_task(task_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        task = ctx.need(task_gid, "task")
        return ctx.page([ctx.store.projects[m["project"]] for m in task.memberships])


def _tag_arg(ctx: Ctx) -> str:
    data = ctx.data()
    if not data.get("tag"):
        raise bad_request("tag: Missing input")
    return str(data["tag"])


@router.post("/tasks/{task_gid}/addTag")
def add_tag(task_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        actions.add_tag(ctx, ctx.need(task_gid, "task"), _tag_arg(ctx))
        return ctx.empty()


@router.post("/tasks/{task_gid}/removeTag")
def remove_tag(task_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        actions.remove_tag(ctx, ctx.need(task_gid, "task"), _tag_arg(ctx))
        return ctx.empty()


@router.get("/tasks/{task_gid}/tags")
def get_tags_for_task(task_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        task = ctx.need(task_gid, "task")
        return ctx.page([ctx.store.tags[g] for g in task.tags if g in ctx.store.tags])


def _followers(ctx: Ctx, task_gid: str, remove: bool) -> Response:
    with ctx.lock:
        task = ctx.need(task_gid, "task")
        data: dict[str, Any] = ctx.data()
        if "followers" not in data:
            raise bad_request("followers: Missing input")
        actions.add_followers(ctx, task, data["followers"], remove=remove)
        return ctx.one(task)


@router.post("/tasks/{task_gid}/addFollowers")
def add_followers(task_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    return _followers(ctx, task_gid, remove=False)


@router.post("/tasks/{task_gid}/removeFollowers")
def remove_followers(task_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    return _followers(ctx, task_gid, remove=True)


# Task lists are the soak's hottest read: served on the event loop (no worker-thread hop, no
# GIL hand-offs with it); the store lock is only ever held briefly, never across an await.
@router.get("/projects/{project_gid}/tasks")
async def get_tasks_for_project(project_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        ctx.need(project_gid, "project")
        return task_page(ctx, ctx.store.project_tasks(project_gid))


@router.get("/sections/{section_gid}/tasks")
async def get_tasks_for_section(section_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        return task_page(ctx, list(ctx.need(section_gid, "section").tasks))


@router.get("/tags/{tag_gid}/tasks")
def get_tasks_for_tag(tag_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        ctx.need(tag_gid, "tag")
        return task_page(ctx, [t.gid for t in ctx.store.tasks.values() if tag_gid in t.tags])


@router.get("/workspaces/{workspace_gid}/tasks/search")
def search_tasks(workspace_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    """A small subset of search: text, completed, assignee.any, projects.any, sort_by."""
    with ctx.lock:
        ctx.need(workspace_gid, "workspace")
        unknown = sorted(
            k
            for k in ctx.request.query_params
            if k not in SEARCH_PARAMS and not _CUSTOM_FIELD_FILTER.fullmatch(k)
        )
        if unknown:
            raise bad_request(f"{unknown[0]}: Unknown search parameter")
        sort_by = ctx.query("sort_by") or "modified_at"
        if sort_by not in SEARCH_SORTS:
            raise bad_request(f"sort_by: Unknown value {sort_by!r}")
        tasks = [t for t in ctx.store.tasks.values() if t.workspace == workspace_gid]
        text = (ctx.query("text") or "").lower()
        if text:
            tasks = [t for t in tasks if text in t.name.lower() or text in t.notes.lower()]
        if ctx.query("completed") is not None:
            want = ctx.query("completed") == "true"
            tasks = [t for t in tasks if t.completed == want]
        if ctx.query("assignee.any"):
            people = {
                ctx.resolve_user(u, "assignee.any") for u in (ctx.query("assignee.any") or "").split(",")
            }
            tasks = [t for t in tasks if t.assignee in people]
        if ctx.query("projects.any"):
            wanted = set((ctx.query("projects.any") or "").split(","))
            tasks = [t for t in tasks if wanted & {m["project"] for m in t.memberships}]
        key = {
            "created_at": lambda t: t.created_at,
            "completed_at": lambda t: t.completed_at or "",
            "due_date": lambda t: t.due_on or "",
        }.get(sort_by, lambda t: t.modified_at)
        ascending = ctx.query("sort_ascending") == "true"
        tasks = [t for t in tasks if ctx.sees(t)]
        tasks.sort(key=key, reverse=not ascending)
        limit = int(ctx.query("limit") or 100)
        if not 1 <= limit <= 100:
            raise bad_request("limit: Must be between 1 and 100")
        from sandbox.context import json_response

        return json_response({"data": [ctx.renderer.render(t, ctx.tree, full=False) for t in tasks[:limit]]})
