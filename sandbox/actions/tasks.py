"""Task writes with Asana's rules: validation, system stories, `modified_at` and events.

All functions expect the caller to hold `store.lock` and raise `ApiError` on bad input before
changing anything.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sandbox import richtext
from sandbox.actions import history
from sandbox.actions.custom_values import validate_values
from sandbox.context import Ctx
from sandbox.errors import bad_request
from sandbox.events import change, emit
from sandbox.records import Project, Record, Section, Task, User
from sandbox.store import Store

MAX_PROJECTS = 20
MAX_DEPENDENCY_LINKS = 30
SUBTYPES = {"default_task", "milestone", "approval", "section"}
APPROVAL_STATUSES = {"pending", "approved", "rejected", "changes_requested"}
_CREATE_ONLY = {
    "projects": "addProject",
    "memberships": "addProject",
    "tags": "addTag",
    "followers": "addFollowers",
    "workspace": None,
    "parent": "setParent",
}


_DUE_BOTH = "due_on: You may only provide one of due_on or due_at"


def _day(value: Any, field: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise bad_request(f"{field}: Invalid date, expected YYYY-MM-DD")
    try:
        date.fromisoformat(value)
    except ValueError:
        raise bad_request(f"{field}: Invalid date, expected YYYY-MM-DD") from None
    return value


def _stamp(value: Any, field: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise bad_request(f"{field}: Invalid timestamp")
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise bad_request(f"{field}: Invalid timestamp") from None
    return value


def _str(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise bad_request(f"{key}: Value is not a string")
    return value


def _notes(data: dict[str, Any]) -> tuple[str | None, str | None]:
    """(notes, html_notes) of a write: rich notes are validated and give the plain notes."""
    notes = _str(data, "notes")
    if data.get("html_notes") is None:
        return notes, None
    html_notes, derived = richtext.validated("html_notes", data["html_notes"], "notes")
    return derived, html_notes


def _gid_list(value: Any, field: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise bad_request(f"{field}: Value is not a list of gids")
    return list(dict.fromkeys(value))


# ---- create ---------------------------------------------------------------------------------
def create_task(ctx: Ctx, data: dict[str, Any], parent: Task | None = None) -> Task:
    store, actor = ctx.store, ctx.user
    name = _str(data, "name") or ""
    subtype = data.get("resource_subtype", "default_task")
    if subtype not in SUBTYPES:
        raise bad_request(f"resource_subtype: Unknown value {subtype!r}")
    memberships = _memberships(ctx, data)
    parent_gid = data.get("parent")
    if parent is None and parent_gid is not None:
        parent = ctx.need(str(parent_gid), "task", field="parent")
    workspace = data.get("workspace")
    if workspace is not None:
        ctx.need_workspace(str(workspace))
    inferred = [store.projects[p].workspace for p, _ in memberships] + ([parent.workspace] if parent else [])
    if workspace is None:
        if not inferred:
            raise bad_request("workspace: Missing input")
        workspace = inferred[0]
    if any(ws != workspace for ws in inferred):
        raise bad_request("workspace: The projects and parent must be in the task's workspace")
    if len(memberships) > MAX_PROJECTS:
        raise bad_request(f"projects: A task can be in at most {MAX_PROJECTS} projects")
    assignee = ctx.resolve_user(data.get("assignee"), "assignee")
    tags = _gid_list(data.get("tags"), "tags")
    for tag in tags:
        ctx.need(tag, "tag", field="tags")
    followers = [
        ctx.resolve_user(f, "followers") or "" for f in _gid_list(data.get("followers"), "followers")
    ]
    due_on, due_at = _day(data.get("due_on"), "due_on"), _stamp(data.get("due_at"), "due_at")
    if due_on and due_at:
        raise bad_request(_DUE_BOTH)
    start_on = _day(data.get("start_on"), "start_on")
    if start_on and not (due_on or due_at):
        raise bad_request("start_on: You must specify a due date (due_on or due_at) with a start date")
    if start_on and subtype == "milestone":
        raise bad_request("start_on: Milestones cannot have a start date")
    approval_status = data.get("approval_status")
    if approval_status is not None and (subtype != "approval" or approval_status not in APPROVAL_STATUSES):
        raise bad_request(
            "approval_status: Only approval tasks take pending/approved/rejected/changes_requested"
        )
    completed = bool(data.get("completed", False))
    notes, html_notes = _notes(data)
    task = store.add_task(
        str(workspace),
        name,
        notes=notes or "",
        html_notes=html_notes,
        created_by=actor.gid,
        assignee=assignee,
        assigned_by=actor.gid if assignee else None,
        completed=completed,
        completed_by=actor.gid if completed else None,
        due_on=due_on,
        due_at=due_at,
        start_on=start_on,
        resource_subtype=subtype,
        approval_status=approval_status,
        tags=tags,
        followers=list(dict.fromkeys([actor.gid, *followers])),
        gid=None,
    )
    if isinstance(data.get("external"), dict):
        task.external = data["external"]
    for project_gid, section_gid in memberships:
        store.add_task_to_project(task.gid, project_gid, section_gid, insert_before=None, insert_after=None)
    if parent is not None:
        task.parent = parent.gid
        parent.subtasks.append(task.gid)
    if data.get("custom_fields") is not None:
        try:
            task.custom_fields.update(validate_values(store, task, data["custom_fields"]))
        except Exception:
            _drop_task(store, task)  # nothing may remain of a rejected create
            raise
    _announce_created(store, task, actor)
    return task


def _announce_created(store: Store, task: Task, actor: User) -> None:
    parents: list[Record] = [store.projects[m["project"]] for m in task.memberships]
    if task.parent:
        parents.append(store.tasks[task.parent])
    if not parents:
        emit(store, task, "added", user=actor.gid, parent=store.workspaces[task.workspace])
    for parent in parents:
        emit(store, task, "added", user=actor.gid, parent=parent)
    for m in task.memberships:
        if m.get("section") in store.sections:
            emit(store, task, "added", user=actor.gid, parent=store.sections[m["section"]])


def _memberships(ctx: Ctx, data: dict[str, Any]) -> list[tuple[str, str | None]]:
    out: list[tuple[str, str | None]] = []
    for project_gid in _gid_list(data.get("projects"), "projects"):
        ctx.need(project_gid, "project", field="projects")
        out.append((project_gid, None))
    raw = data.get("memberships") or []
    if not isinstance(raw, list):
        raise bad_request("memberships: Value is not a list")
    for entry in raw:
        if not isinstance(entry, dict) or not entry.get("project"):
            raise bad_request("memberships: Each membership needs a project")
        project: Project = ctx.need(str(entry["project"]), "project", field="memberships.project")
        section_gid = entry.get("section")
        if section_gid is not None:
            section: Section = ctx.need(str(section_gid), "section", field="memberships.section")
            if section.project != project.gid:
                raise bad_request("memberships.section: Section is not in the given project")
        out = [m for m in out if m[0] != project.gid]
        out.append((project.gid, str(section_gid) if section_gid else None))
    return out


def _drop_task(store: Store, task: Task) -> None:
    for m in list(task.memberships):
        store.remove_task_from_project(task.gid, m["project"])
    if task.parent and task.parent in store.tasks:
        store.tasks[task.parent].subtasks.remove(task.gid)
    store.remove(task.gid)


# ---- update ---------------------------------------------------------------------------------
def update_task(ctx: Ctx, task: Task, data: dict[str, Any]) -> Task:
    store, actor = ctx.store, ctx.user
    for key, endpoint in _CREATE_ONLY.items():
        if key in data:
            hint = f"; use /tasks/{{task_gid}}/{endpoint}" if endpoint else ""
            raise bad_request(f"{key}: Cannot write this property after creation{hint}")
    # Validate everything first so a bad request changes nothing.
    plan: dict[str, Any] = {}
    if "name" in data:
        plan["name"] = _str(data, "name") or ""
    if "notes" in data or "html_notes" in data:
        notes, html_notes = _notes(data)
        plan["notes"], plan["html_notes"] = notes or "", html_notes
    if "assignee" in data:
        plan["assignee"] = ctx.resolve_user(data["assignee"], "assignee")
    if "completed" in data:
        if not isinstance(data["completed"], bool):
            raise bad_request("completed: Value is not a boolean")
        plan["completed"] = data["completed"]
    for key in ("due_on", "start_on"):
        if key in data:
            plan[key] = _day(data[key], key)
    for key in ("due_at", "start_at"):
        if key in data:
            plan[key] = _stamp(data[key], key)
    if plan.get("due_on") and plan.get("due_at"):
        raise bad_request(_DUE_BOTH)
    # asana_oas.yaml TaskBase.start_on: "`due_on` or `due_at` must be present in the request when
    # setting or unsetting the `start_on` parameter" (and `due_at` for `start_at`).
    if "start_on" in plan and "due_on" not in plan and "due_at" not in plan:
        raise bad_request("start_on: You must specify a due date (due_on or due_at) with a start date")
    if "start_at" in plan and "due_at" not in plan:
        raise bad_request("start_at: You must specify due_at with a start time")
    new_start = plan.get("start_on", task.start_on)
    new_due = plan.get("due_on", task.due_on) or plan.get("due_at", task.due_at)
    if "start_on" in plan and new_start and not new_due:
        raise bad_request("start_on: You must specify a due date (due_on or due_at) with a start date")
    if "resource_subtype" in data:
        if data["resource_subtype"] not in SUBTYPES:
            raise bad_request(f"resource_subtype: Unknown value {data['resource_subtype']!r}")
        plan["resource_subtype"] = data["resource_subtype"]
    if "approval_status" in data:
        subtype = plan.get("resource_subtype", task.resource_subtype)
        if subtype != "approval":
            raise bad_request("approval_status: Only approval tasks have an approval status")
        if data["approval_status"] not in APPROVAL_STATUSES:
            raise bad_request("approval_status: Must be pending, approved, rejected or changes_requested")
        plan["approval_status"] = data["approval_status"]
    values = (
        validate_values(store, task, data["custom_fields"]) if data.get("custom_fields") is not None else {}
    )
    if "external" in data:
        plan["external"] = data["external"] if isinstance(data["external"], dict) else None
    _apply(store, task, actor, plan, values)
    return task


def _apply(store: Store, task: Task, actor: User, plan: dict[str, Any], values: dict[str, Any]) -> None:
    now = store.now()
    touched = False
    changed: set[str] = set()
    for key, new in plan.items():
        old = getattr(task, key)
        if old == new:
            continue
        setattr(task, key, new)
        touched = touched or key not in ("resource_subtype", "external")
        changed.add(key)
        if key == "html_notes" and "notes" in changed:
            continue  # one description change: the plain notes' story and event tell it
        _after_field_change(store, task, actor, key, old, new, now)
    for cf_gid, new in values.items():
        old = task.custom_fields.get(cf_gid)
        if old == new:
            continue
        task.custom_fields[cf_gid] = new
        touched = True
        cf = store.custom_fields[cf_gid]
        history.field_changed(store, task, actor, cf, old, new)
        emit(
            store,
            task,
            "changed",
            user=actor.gid,
            change=change(
                "custom_fields",
                "changed",
                {"gid": cf_gid, "resource_type": "custom_field", "resource_subtype": cf.resource_subtype},
            ),
        )
    if touched:
        task.modified_at = now


def _after_field_change(
    store: Store, task: Task, actor: User, key: str, old: Any, new: Any, now: str
) -> None:
    event_value: Any = None
    if key == "name":
        history.system_story(
            store,
            task,
            actor,
            "name_changed",
            f'changed the name to "{new}"',
            {"old_name": old, "new_name": new},
        )
    elif key in ("notes", "html_notes"):
        history.system_story(store, task, actor, "notes_changed", "changed the description")
        key = "notes"
    elif key == "assignee":
        task.assigned_by = actor.gid if new else None
        if new:
            history.system_story(
                store, task, actor, "assigned", f"assigned to {store.users[new].name}", {"assignee": new}
            )
            event_value = {"gid": new, "resource_type": "user"}
        else:
            history.system_story(
                store,
                task,
                actor,
                "unassigned",
                f"unassigned from {store.users[old].name}" if old in store.users else "unassigned",
                {"assignee": old},
            )
    elif key == "completed":
        task.completed_at = now if new else None
        task.completed_by = actor.gid if new else None
        if new:
            history.system_story(store, task, actor, "marked_complete", "completed this task")
        else:
            history.system_story(store, task, actor, "marked_incomplete", "marked this task incomplete")
    elif key in ("due_on", "due_at", "start_on", "start_at"):
        old_dates = {"start_on": task.start_on, "due_at": task.due_at, "due_on": task.due_on}
        old_dates[key if key in old_dates else "start_on"] = old
        new_dates = {"start_on": task.start_on, "due_at": task.due_at, "due_on": task.due_on}
        if key.startswith("due"):
            text = f"changed the due date to {new}" if new else "removed the due date"
            history.system_story(
                store, task, actor, "due_date_changed", text, {"old_dates": old_dates, "new_dates": new_dates}
            )
        else:
            history.system_story(
                store,
                task,
                actor,
                "start_date_changed",
                f"changed the start date to {new}" if new else "removed the start date",
                {"old_dates": old_dates, "new_dates": new_dates},
            )
    elif key == "approval_status":
        verbs = {
            "approved": "approved this task",
            "rejected": "rejected this task",
            "changes_requested": "requested changes",
            "pending": "reset the approval to pending",
        }
        history.system_story(
            store,
            task,
            actor,
            "approval_status_changed",
            verbs[new],
            {"old_approval_status": old, "new_approval_status": new},
        )
    emit(store, task, "changed", user=actor.gid, change=change(key, "changed", event_value))


# ---- delete ---------------------------------------------------------------------------------
def delete_task(ctx: Ctx, task: Task) -> None:
    store = ctx.store
    for sub in list(task.subtasks):
        if sub in store.tasks:
            delete_task(ctx, store.tasks[sub])
    emit(store, task, "deleted", user=ctx.user.gid)
    for dep in list(task.dependencies):
        if dep in store.tasks:
            store.remove_dependency(task.gid, dep)
    for dependent in list(task.dependents):
        if dependent in store.tasks:
            store.remove_dependency(dependent, task.gid)
    for story in store.stories_for(task.gid):
        store.remove(story.gid)
    _drop_task(store, task)


# ---- dependencies ---------------------------------------------------------------------------
def add_dependencies(ctx: Ctx, task: Task, gids: list[str], *, as_dependents: bool = False) -> None:
    store, actor = ctx.store, ctx.user
    field = "dependents" if as_dependents else "dependencies"
    others: list[Task] = [ctx.need(g, "task", field=field) for g in gids]
    new_links = []
    for other in others:
        if other.gid == task.gid:
            raise bad_request(f"{field}: A task cannot depend on itself")
        if other.workspace != task.workspace:
            raise bad_request(f"{field}: Tasks must be in the same workspace")
        blocked, blocker = (other, task) if as_dependents else (task, other)
        if blocker.gid in blocked.dependencies:
            continue
        if _reaches(store, blocker.gid, blocked.gid):
            raise bad_request(f"{field}: This dependency would create a cycle")
        new_links.append((blocked, blocker))
    added_for: dict[str, int] = {}
    for blocked, blocker in new_links:
        added_for[blocked.gid] = added_for.get(blocked.gid, 0) + 1
        added_for[blocker.gid] = added_for.get(blocker.gid, 0) + 1
    for gid, extra in added_for.items():
        linked = store.tasks[gid]
        if len(linked.dependencies) + len(linked.dependents) + extra > MAX_DEPENDENCY_LINKS:
            raise bad_request(
                f"{field}: A task can have at most {MAX_DEPENDENCY_LINKS} dependencies and "
                "dependents combined"
            )
    for blocked, blocker in new_links:
        store.add_dependency(blocked.gid, blocker.gid)
        history.system_story(
            store,
            blocked,
            actor,
            "dependency_added",
            f"marked this task as dependent on {blocker.name}",
            {"dependency": blocker.gid},
        )
        emit(
            store,
            blocked,
            "changed",
            user=actor.gid,
            change=change("dependencies", "added", {"gid": blocker.gid, "resource_type": "task"}),
        )
        blocked.modified_at = store.now()


def _reaches(store: Store, start: str, goal: str) -> bool:
    """Does `start` (transitively) depend on `goal`? Then goal->start would close a cycle."""
    seen: set[str] = set()
    stack = [start]
    while stack:
        gid = stack.pop()
        if gid == goal:
            return True
        if gid in seen:
            continue
        seen.add(gid)
        task = store.tasks.get(gid)
        if task is not None:
            stack.extend(task.dependencies)
    return False


def remove_dependencies(ctx: Ctx, task: Task, gids: list[str], *, as_dependents: bool = False) -> None:
    store, actor = ctx.store, ctx.user
    field = "dependents" if as_dependents else "dependencies"
    others: list[Task] = [ctx.need(g, "task", field=field) for g in gids]
    for other in others:
        blocked, blocker = (other, task) if as_dependents else (task, other)
        if blocker.gid not in blocked.dependencies:
            continue
        store.remove_dependency(blocked.gid, blocker.gid)
        history.system_story(
            store,
            blocked,
            actor,
            "dependency_removed",
            f"removed the dependency on {blocker.name}",
            {"dependency": blocker.gid},
        )
        emit(
            store,
            blocked,
            "changed",
            user=actor.gid,
            change=change("dependencies", "removed", {"gid": blocker.gid, "resource_type": "task"}),
        )


# ---- projects, sections, tags, parent --------------------------------------------------------
def place_in_project(
    ctx: Ctx,
    task: Task,
    project: Project,
    section: Section | None,
    insert_before: str | None = None,
    insert_after: str | None = None,
    *,
    at_top: bool = False,
) -> None:
    """addProject / sections/addTask: joins the project or moves between (or within) its sections.

    `at_top` puts the task first in its section (addTask without anchors, addProject with
    `insert_after: null`); otherwise it goes after the last task or next to its anchor."""
    store, actor = ctx.store, ctx.user
    if section is not None and section.project != project.gid:
        raise bad_request("section: Section is not in the given project")
    if project.workspace != task.workspace:
        raise bad_request("project: The project is in another workspace")
    current = store.section_of(task, project.gid)
    is_member = any(m["project"] == project.gid for m in task.memberships)
    if not is_member and len(task.memberships) >= MAX_PROJECTS:
        raise bad_request(f"project: A task can be in at most {MAX_PROJECTS} projects")
    anchor_section = _anchor_section(store, project, section, insert_before, insert_after)
    target_section = section.gid if section is not None else anchor_section or current
    store.add_task_to_project(
        task.gid, project.gid, target_section, insert_before=insert_before, insert_after=insert_after
    )
    new_section_gid = store.section_of(task, project.gid)
    if at_top and new_section_gid in store.sections:
        ordered = store.sections[new_section_gid].tasks
        ordered.remove(task.gid)
        ordered.insert(0, task.gid)
    new_section = store.sections[new_section_gid] if new_section_gid else None
    if not is_member:
        history.system_story(
            store,
            task,
            actor,
            "added_to_project",
            f"added this task to {project.name}",
            {"project": project.gid},
        )
        emit(store, task, "added", user=actor.gid, parent=project)
        if new_section is not None:
            emit(store, task, "added", user=actor.gid, parent=new_section)
    elif current != new_section_gid and new_section is not None:
        old_name = store.sections[current].name if current in store.sections else ""
        history.system_story(
            store,
            task,
            actor,
            "section_changed",
            f'moved this task from "{old_name}" to "{new_section.name}" in {project.name}',
            {"old_section": current, "new_section": new_section.gid, "project": project.gid},
        )
        if current in store.sections:
            emit(store, task, "removed", user=actor.gid, parent=store.sections[current])
        emit(store, task, "added", user=actor.gid, parent=new_section)


def _anchor_section(
    store: Store,
    project: Project,
    section: Section | None,
    insert_before: str | None,
    insert_after: str | None,
) -> str | None:
    """The section of the anchor task; 400 for both anchors, or an anchor outside the section
    (or, without a section, outside the project): asana_oas.yaml SectionTaskInsertRequest and
    TaskAddProjectRequest."""
    if insert_before is not None and insert_after is not None:
        raise bad_request("insert_before: Cannot be provided together with insert_after")
    field, anchor = "insert_before", insert_before
    if anchor is None:
        field, anchor = "insert_after", insert_after
    if anchor is None:
        return None
    anchor_task = store.tasks.get(str(anchor))
    where = store.section_of(anchor_task, project.gid) if anchor_task is not None else None
    if where is None:
        raise bad_request(f"{field}: The task is not in this project")
    if section is not None and where != section.gid:
        raise bad_request(f"{field}: The task is not in this section")
    return where


def remove_from_project(ctx: Ctx, task: Task, project: Project) -> None:
    if not any(m["project"] == project.gid for m in task.memberships):
        return
    ctx.store.remove_task_from_project(task.gid, project.gid)
    history.system_story(
        ctx.store,
        task,
        ctx.user,
        "removed_from_project",
        f"removed this task from {project.name}",
        {"project": project.gid},
    )
    emit(ctx.store, task, "removed", user=ctx.user.gid, parent=project, extra_scopes=[project.gid])


def add_tag(ctx: Ctx, task: Task, tag_gid: str) -> None:
    tag = ctx.need(tag_gid, "tag", field="tag")
    if tag.gid in task.tags:
        return
    task.tags.append(tag.gid)
    history.system_story(
        ctx.store, task, ctx.user, "added_to_tag", f"added this task to {tag.name}", {"tag": tag.gid}
    )
    emit(ctx.store, task, "added", user=ctx.user.gid, parent=tag)


def remove_tag(ctx: Ctx, task: Task, tag_gid: str) -> None:
    tag = ctx.need(tag_gid, "tag", field="tag")
    if tag.gid not in task.tags:
        return
    task.tags.remove(tag.gid)
    history.system_story(
        ctx.store, task, ctx.user, "removed_from_tag", f"removed this task from {tag.name}", {"tag": tag.gid}
    )
    emit(ctx.store, task, "removed", user=ctx.user.gid, parent=tag)


def set_parent(
    ctx: Ctx,
    task: Task,
    parent_gid: str | None,
    insert_before: str | None = None,
    insert_after: str | None = None,
) -> None:
    store = ctx.store
    parent: Task | None = ctx.need(parent_gid, "task", field="parent") if parent_gid else None
    if parent is not None:
        cursor: Task | None = parent
        while cursor is not None:  # no task may become its own ancestor
            if cursor.gid == task.gid:
                raise bad_request("parent: A task cannot be its own parent or ancestor")
            cursor = store.tasks.get(cursor.parent) if cursor.parent else None
    if task.parent and task.parent in store.tasks:
        old = store.tasks[task.parent]
        if task.gid in old.subtasks:
            old.subtasks.remove(task.gid)
        emit(store, task, "removed", user=ctx.user.gid, parent=old)
    task.parent = parent.gid if parent else None
    if parent is not None:
        position = len(parent.subtasks)
        if insert_before in parent.subtasks:
            position = parent.subtasks.index(insert_before)
        elif insert_after in parent.subtasks:
            position = parent.subtasks.index(insert_after) + 1
        parent.subtasks.insert(position, task.gid)
        emit(store, task, "added", user=ctx.user.gid, parent=parent)


def add_followers(ctx: Ctx, task: Task, raw: Any, remove: bool = False) -> None:
    users = [ctx.resolve_user(u, "followers") or "" for u in _gid_list(raw, "followers")]
    for user in users:
        if remove and user in task.followers:
            task.followers.remove(user)
        elif not remove and user not in task.followers:
            task.followers.append(user)
        emit(
            ctx.store,
            task,
            "changed",
            user=ctx.user.gid,
            change=change(
                "followers", "removed" if remove else "added", {"gid": user, "resource_type": "user"}
            ),
        )


def gid_list(value: Any, field: str) -> list[str]:
    return _gid_list(value, field)
