"""Read what the stand-up needs from Asana with the minimum of calls.

Cost (printed by evals/bench_standup.py): 1 (the project) + ⌈tasks/100⌉ (every task, with
`modified_at` and each dependency's `completed`, so no per-dependency reads) + ⌈status updates/100⌉
(finds the previous stand-up) + Σ ⌈stories/100⌉ over only the tasks modified since the previous
stand-up (Asana keeps stories per task; unmodified tasks have no new ones) + ⌈users/100⌉, read
only when there is someone to nudge (nudges go to workspace/project members only).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict

from tools.asana.field_names import IMPEDIMENTS, PRIORITY, STATUS, STORY_POINTS
from tools.asana.fields import TaskView
from tools.asana.models import Project, StatusUpdate, Story, Task, User
from tools.standup.models import TaskState

STANDUP_MARKER = "Daily stand-up"
DEFAULT_LOOKBACK = timedelta(hours=24)


# The planning view plus each dependency's completion and name (one read for all tasks).
StandupTaskView = TaskView.STANDUP


class StandupReader(Protocol):
    """The read calls the stand-up makes (the typed Asana client satisfies it)."""

    def project(self, gid: str) -> Project: ...

    def find_project(self, workspace_gid: str, name_or_gid: str) -> Project: ...

    def project_tasks(self, project_gid: str, view: Any = ..., completed_since: Any = None) -> list[Task]: ...

    def status_updates(self, parent_gid: str) -> list[StatusUpdate]: ...

    def stories_many(self, task_gids: Iterable[str], *, max_workers: int = 8) -> dict[str, list[Story]]: ...

    def users(self, workspace_gid: str) -> list[User]: ...


class StandupInputs(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    project: Project
    workspace_gid: str
    tasks: list[TaskState]
    stories: dict[str, list[Story]]
    since: datetime
    now: datetime
    previous_standup: StatusUpdate | None
    today_standup: StatusUpdate | None
    modified_gids: list[str]
    # The text of the sprint's plan ("<sprint> plan" status update), which states each person's
    # capacity (tools/standup/capacity.py); None for a sprint not planned by sprintpilot.
    plan_text: str | None = None


def standup_title(day: str) -> str:
    return f"{STANDUP_MARKER} {day}"


def _local(value: datetime | None, tz: ZoneInfo) -> datetime | None:
    return None if value is None else value.astimezone(tz)


def to_state(task: Task, project_gid: str, tz: ZoneInfo) -> TaskState:
    section = task.section_in(project_gid)
    deps: dict[str, bool | None] = {}
    names: dict[str, str] = {}
    for d in task.dependencies:
        done = (d.model_extra or {}).get("completed")
        deps[d.gid] = bool(done) if isinstance(done, bool) else None
        if d.name:
            names[d.gid] = d.name
    return TaskState(
        gid=task.gid,
        name=task.name or task.gid,
        assignee_gid=task.assignee.gid if task.assignee else None,
        assignee_name=task.assignee.name if task.assignee else None,
        section=section.name if section else None,
        status=task.text(STATUS),
        priority=task.text(PRIORITY),
        points=task.number(STORY_POINTS),
        completed=bool(task.completed),
        completed_at=_local(task.completed_at, tz),
        created_at=_local(task.created_at, tz),
        modified_at=_local(task.modified_at, tz),
        due_on=task.due_on,
        dependencies=deps,
        dependency_names=names,
        impediments=task.text(IMPEDIMENTS),
        has_impediments_field=task.has_field(IMPEDIMENTS),
        url=task.permalink_url,
    )


def _title_day(update: StatusUpdate) -> str:
    return (update.title or "")[len(STANDUP_MARKER) :].strip()[:10]


def _standups(updates: list[StatusUpdate]) -> list[StatusUpdate]:
    """Stand-up status updates (title = marker + ISO date), oldest day first."""
    found = [u for u in updates if (u.title or "").startswith(STANDUP_MARKER) and len(_title_day(u)) == 10]
    return sorted(found, key=lambda u: (_title_day(u), u.created_at or datetime.min.replace(tzinfo=UTC)))


def read_sprint_tasks(asana: StandupReader, project_gid: str) -> list[Task]:
    """The project's top-level work items as the stand-up reads them (no subtasks, approval tasks
    or milestones); the dependency manager reads them the same way for the Blockers portfolio."""
    raw = [t for t in asana.project_tasks(project_gid, StandupTaskView) if not t.parent]
    return [t for t in raw if t.resource_subtype not in ("approval", "milestone")]


def read_task_states(asana: StandupReader, project: Project, tz: ZoneInfo) -> list[TaskState]:
    return [to_state(t, project.gid, tz) for t in read_sprint_tasks(asana, project.gid)]


def read_standup_inputs(
    asana: StandupReader, workspace_gid: str | None, project_ref: str, now: datetime, tz: ZoneInfo
) -> StandupInputs:
    project = (
        asana.project(project_ref)
        if project_ref.strip().isdigit() or workspace_gid is None
        else asana.find_project(workspace_gid, project_ref)
    )
    ws = workspace_gid or (project.workspace.gid if project.workspace else "")
    if not ws:
        raise ValueError(f"project {project.gid} has no workspace; pass one explicitly")
    now_local = now.astimezone(tz)
    raw = read_sprint_tasks(asana, project.gid)
    today = now_local.date().isoformat()
    # The day is read from the title (the marker plus an ISO date), not from created_at: the title is
    # what makes "one stand-up per project per day" visible in Asana.
    updates = asana.status_updates(project.gid)
    plan_title = f"{project.name} plan"
    plan = next((u for u in updates if (u.title or "").strip() == plan_title), None)
    earlier = [u for u in _standups(updates) if _title_day(u) <= today]
    today_update = next((u for u in reversed(earlier) if _title_day(u) == today), None)
    previous = earlier[-1] if earlier else None
    if previous is not None and previous.created_at is not None:
        since = min(previous.created_at, now).astimezone(tz)
    else:
        since = now_local - DEFAULT_LOOKBACK
    modified = [t.gid for t in raw if t.modified_at is not None and t.modified_at > since]
    stories = asana.stories_many(modified) if modified and today_update is None else {}
    return StandupInputs(
        project=project,
        workspace_gid=ws,
        tasks=[to_state(t, project.gid, tz) for t in raw],
        stories=stories,
        since=since,
        now=now_local,
        previous_standup=previous,
        today_standup=today_update,
        modified_gids=modified,
        plan_text=plan.text if plan is not None else None,
    )


def member_gids(asana: StandupReader, project: Project, workspace_gid: str) -> set[str]:
    """Who may be nudged: the project's members when the read returned them, else the workspace's."""
    if project.members:
        return {m.gid for m in project.members}
    return {u.gid for u in asana.users(workspace_gid)}
