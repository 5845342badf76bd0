"""Read a sprint for its review: its tasks as `ReviewTask`s (epic, demo material, why unfinished).

Reuses the retro's mapping of a task and its stories (agents/retro/inputs.to_item: the team's
comments without sprintpilot's own, status/section transitions, due-date moves, when it joined the
sprint) and the retro's metrics (done inside the window, blocked periods), so "done", "blocked" and
"added mid-sprint" mean the same in the retro, the review and the ceremony agendas.

Cost: 1 call per 100 tasks, 1 stories call per task (parallel), 1 call per distinct parent task
(epic names), 1 call per unfinished dependency outside the sprint (at most `MAX_OUTSIDE_DEPS`).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict

from agents.planner.inputs import past_sprint_projects
from agents.retro.inputs import RETRO_TASK_PREFIX, to_item
from tools.asana.models import Project, Task
from tools.retro.metrics import added_mid_sprint, blockers, completed_in, work_started
from tools.retro.models import SprintWindow
from tools.retro.review_doc import NO_EPIC, ReviewTask

EPIC_FIELD = "Epic"
MAX_OUTSIDE_DEPS = 30
_GOAL = re.compile(r"sprint goal:\**\s*(.+)", re.IGNORECASE)
_STARTED = frozenset({"in progress", "blocked", "ready for review", "in review", "done"})


class ReviewInputs(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    workspace_gid: str
    project: Project
    window: SprintWindow
    tasks: list[ReviewTask]
    goal: str | None = None
    attachment_names: list[str] = []


def pick_ended_sprint(asana: Any, workspace_gid: str, sprint_ref: str | None, today: date) -> Project:
    """The sprint named, else the last one that has ended (as the retro picks it)."""
    if sprint_ref:
        return asana.find_project(workspace_gid, sprint_ref)  # type: ignore[no-any-return]
    sprints = past_sprint_projects(asana.projects(workspace_gid, archived=None), exclude_gid="")
    ended = [p for _, p in sprints if p.due_on is not None and p.due_on <= today]
    if not ended:
        raise ValueError("no sprint project has ended yet; pass --project")
    return ended[-1]


def epic_of(task: Task, parents: dict[str, str]) -> str:
    if task.parent is not None and parents.get(task.parent.gid):
        return parents[task.parent.gid]
    field = task.display(EPIC_FIELD) or task.text(EPIC_FIELD)
    if field:
        return field
    tags = sorted((t.name or "").strip() for t in task.tags if (t.name or "").strip())
    return tags[0] if tags else NO_EPIC


def review_tasks(asana: Any, project: Project, window: SprintWindow) -> list[ReviewTask]:
    tasks = [
        t
        for t in asana.project_tasks(project.gid)
        if t.resource_subtype != "approval" and not (t.name or "").startswith(RETRO_TASK_PREFIX)
    ]
    stories = asana.stories_many([t.gid for t in tasks]) if tasks else {}
    bot = asana.me().gid
    items = {t.gid: to_item(t, stories.get(t.gid, []), project, {}, bot) for t in tasks}
    parents = {}
    for gid in dict.fromkeys(t.parent.gid for t in tasks if t.parent is not None):
        parents[gid] = asana.task(gid).name or ""
    blocked: dict[str, tuple[float, bool]] = {}
    for b in blockers(list(items.values()), window):
        days, still = blocked.get(b.gid, (0.0, False))
        blocked[b.gid] = (round(days + b.days, 2), still or b.until is None)
    done = {g for g, it in items.items() if completed_in(it, window)}
    outside: dict[str, Task] = {}
    out: list[ReviewTask] = []
    for t in tasks:
        it = items[t.gid]
        waiting: list[str] = []
        if t.gid not in done:
            for dep in t.dependencies:
                if dep.gid in items:
                    if not items[dep.gid].completed:
                        waiting.append(items[dep.gid].name)
                    continue
                if dep.gid not in outside and len(outside) < MAX_OUTSIDE_DEPS:
                    outside[dep.gid] = asana.task(dep.gid)
                found = outside.get(dep.gid)
                if found is not None and not found.completed:
                    waiting.append(found.name or found.gid)
        days, still = blocked.get(t.gid, (0.0, False))
        status = it.status
        out.append(
            ReviewTask(
                gid=t.gid,
                name=it.name,
                epic=epic_of(t, parents),
                points=it.points,
                assignee=it.assignee_name,
                permalink=t.permalink_url,
                notes=it.notes,
                comments=[c.text for c in it.comments],
                completed=t.gid in done,
                status=status,
                blocked_days=days,
                still_blocked=still and t.gid not in done,
                waiting_on=waiting,
                added_mid_sprint=added_mid_sprint(it, window),
                due_moves=len(it.due_changes),
                started=work_started(it) is not None or (status or "").strip().lower() in _STARTED,
            )
        )
    return out


def sprint_goal(project: Project) -> str | None:
    m = _GOAL.search(project.notes or "")
    return m.group(1).strip() if m else None


def read_review_inputs(
    asana: Any, workspace_gid: str, sprint_ref: str | None, *, today: date
) -> ReviewInputs:
    project = pick_ended_sprint(asana, workspace_gid, sprint_ref, today)
    if project.start_on is None or project.due_on is None:
        raise ValueError(f"project {project.name!r} has no start and due dates; it is not a sprint window")
    window = SprintWindow(name=project.name or project.gid, start_on=project.start_on, end_on=project.due_on)
    return ReviewInputs(
        workspace_gid=workspace_gid,
        project=project,
        window=window,
        tasks=review_tasks(asana, project, window),
        goal=sprint_goal(project),
        attachment_names=[a.name or "" for a in asana.attachments(project.gid)],
    )
