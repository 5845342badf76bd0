"""Read the tasks to refine and the team's completed history (one call per 100 project tasks).

The first explicit target is read to find its project; the project's tasks (targets and completed
history alike) come from one paged project read, so refining many tasks costs one call per 100
project tasks plus the lookups (a target outside the project is read on its own).
"""

from __future__ import annotations

from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict

from agents.triage.args import TriageArgs
from tools.asana.field_names import ESTIMATED_STORY_POINTS, STORY_POINTS
from tools.asana.models import Project, Task, Workspace
from tools.asana.task_index import PROJECT_TASKS


class TriageReader(Protocol):
    def workspaces(self) -> list[Workspace]: ...

    def find_project(self, workspace_gid: str, name_or_gid: str) -> Project: ...

    def project_tasks(self, project_gid: str) -> list[Task]: ...

    def task(self, gid: str) -> Task: ...


class TriageInputs(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    workspace_gid: str
    project: Project
    targets: list[Task]
    history: list[Task]  # completed tasks of the project with Story Points
    completed_gids: set[str]
    known_open_gids: set[str]
    truncated: int = 0


def story_points(task: Task) -> float | None:
    return task.number(STORY_POINTS)


def is_work_item(task: Task) -> bool:
    return not task.parent and task.resource_subtype not in {"approval", "milestone"}


def home_project(task: Task) -> str | None:
    for m in task.memberships:
        if m.project is not None:
            return m.project.gid
    return None


def read_triage_inputs(asana: TriageReader, workspace_gid: str, args: TriageArgs) -> TriageInputs:
    wanted = args.explicit_gids()
    first = asana.task(wanted[0]) if wanted and not args.project else None
    if args.project:
        project = asana.find_project(workspace_gid, args.project)
    else:
        home = home_project(first) if first else None
        if home is None:
            raise ValueError("the task is in no project, so there is no team history to compare with")
        project = asana.find_project(workspace_gid, home)
    # Named targets (an event, `--task`): the history may come from the process's copy of the
    # project kept current with modified_since reads; picking the next untriaged tasks reads the
    # project itself, in its order.
    listed = PROJECT_TASKS.tasks(asana, project.gid) if wanted else asana.project_tasks(project.gid)
    rows = [t for t in listed if is_work_item(t)]
    if wanted:
        # Targets already in the project read need no extra call; others are read one by one.
        by_gid = {t.gid: t for t in rows}
        if first is not None:
            by_gid[first.gid] = first
        targets = [by_gid[g] if g in by_gid else asana.task(g) for g in wanted]
    else:
        # The next untriaged tasks: one that already carries the AI estimate was refined by an
        # earlier run (name it with --task to refine it again), so re-runs move on, not repeat.
        targets = [
            t
            for t in rows
            if not t.completed
            and (not args.unestimated or story_points(t) is None)
            and t.number(ESTIMATED_STORY_POINTS) is None
        ]
    truncated = max(0, len(targets) - args.limit)
    targets = targets[: args.limit]
    target_gids = {t.gid for t in targets}
    history = [t for t in rows if t.completed and t.gid not in target_gids and (story_points(t) or 0) > 0]
    return TriageInputs(
        workspace_gid=workspace_gid,
        project=project,
        targets=targets,
        history=history,
        completed_gids={t.gid for t in rows if t.completed},
        known_open_gids={t.gid for t in rows if not t.completed},
        truncated=truncated,
    )


def workspace_for(args: TriageArgs, ctx: Any) -> str:
    return str(ctx.resolve_workspace(args.workspace))
