"""Who can see what: Asana's project privacy, as each token's user meets it.

Asana (developers.asana.com "Projects", asana_oas.yaml `ProjectBase.privacy_setting`):
- `public_to_workspace`: every member of the workspace sees the project;
- `private_to_team`: the project's team and the project's own members;
- `private`: the project's members only.
A task is seen through any project that holds it; a task in no project (or a subtask without
projects of its own) by its assignee, creator and followers, or through its parent. Sections,
stories, attachments, status updates and custom-field settings follow their parent. An object
the user cannot see answers 404 exactly like one that does not exist (Asana: "Unknown object:
The object you are looking for does not exist or you do not have access to it.").
"""

from __future__ import annotations

from sandbox.records import (
    Attachment,
    CustomFieldSetting,
    Goal,
    GoalRelationship,
    Project,
    Record,
    Section,
    StatusUpdate,
    Story,
    Task,
)
from sandbox.store import Store

PRIVACY_SETTINGS = ("public_to_workspace", "private_to_team", "private")
_PARENT_DEPTH = 5


def privacy_of(project: Project) -> str:
    """The project's privacy setting (older saved states only have the deprecated `public`)."""
    if project.privacy_setting:
        return project.privacy_setting
    return "public_to_workspace" if project.public else "private"


def sees_project(store: Store, user_gid: str, project: Project) -> bool:
    if user_gid in project.members or user_gid == project.owner:
        return True
    privacy = privacy_of(project)
    if privacy == "public_to_workspace":
        return True
    if privacy == "private_to_team" and project.team:
        team = store.teams.get(project.team)
        return team is not None and user_gid in team.members
    return False


def sees_task(store: Store, user_gid: str, task: Task, projects_seen: dict[str, bool] | None = None) -> bool:
    """`projects_seen` (project gid -> visible) lets a list check each project once."""
    current: Task | None = task
    for _ in range(_PARENT_DEPTH):
        if current is None:
            return False
        held_by = [m["project"] for m in current.memberships]
        projects = [store.projects[gid] for gid in held_by if gid in store.projects]
        if any(_sees_project_once(store, user_gid, p, projects_seen) for p in projects):
            return True
        if user_gid in (current.assignee, current.created_by) or user_gid in current.followers:
            return True
        if projects or current.parent is None:
            return False
        current = store.tasks.get(current.parent)
    return False


def _sees_project_once(
    store: Store, user_gid: str, project: Project, projects_seen: dict[str, bool] | None
) -> bool:
    if projects_seen is None:
        return sees_project(store, user_gid, project)
    seen = projects_seen.get(project.gid)
    if seen is None:
        seen = projects_seen[project.gid] = sees_project(store, user_gid, project)
    return seen


def sees_goal(user_gid: str, goal: Goal) -> bool:
    """asana_oas.yaml GoalResponse.privacy_setting: `public_to_workspace` goals are seen by every
    workspace member, `members_only` ones by their members (followers) and owner."""
    if goal.privacy_setting != "members_only":
        return True
    return user_gid in goal.followers or user_gid == goal.owner


def can_see(store: Store, user_gid: str, record: Record) -> bool:
    """Whether `user_gid` may read `record` (workspace membership is checked separately: 403)."""
    if isinstance(record, Project):
        return sees_project(store, user_gid, record)
    if isinstance(record, Task):
        return sees_task(store, user_gid, record)
    if isinstance(record, Goal):
        return sees_goal(user_gid, record)
    parent_gid: str | None = None
    if isinstance(record, Section):
        parent_gid = record.project
    elif isinstance(record, Story):
        parent_gid = record.target
    elif isinstance(record, Attachment | StatusUpdate | CustomFieldSetting):
        parent_gid = record.parent
    elif isinstance(record, GoalRelationship):
        parent_gid = record.supported_goal
    if parent_gid is None:
        return True
    parent = store.index.get(parent_gid)
    return parent is None or can_see(store, user_gid, parent)
