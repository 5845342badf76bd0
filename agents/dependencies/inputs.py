"""Read what the dependency manager needs: the tasks of a project (or every project of a
portfolio) with their dependency links, plus the team's pace from past sprint projects.

Cost: one call per 100 tasks per project read (an event run: one call per project while fewer
than 100 of its tasks changed, from the kept copies), one per past sprint project (velocity), plus the
project/portfolio lookups. Prerequisites outside the projects read stay unknown nodes (gid only).
The tasks of past sprint projects are kept: they are the delay-risk model's training history (no
extra call). Stories are never read here.

Implicit due date: a task without a due date of its own in a sprint-like project (one with both
`start_on` and `due_on`) is treated as due at the sprint's `due_on` for scheduling (predicted late,
cascade slack, delay-risk scoring): teams plan sprint work to the sprint end. The date is marked
implicit on the node and is never written back to Asana.
"""

from __future__ import annotations

import statistics
from dataclasses import replace
from datetime import date
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from tools.asana.field_names import RISK_SCORE, STATUS, STORY_POINTS
from tools.asana.fields import TaskView
from tools.asana.kept_reads import kept_project_tasks
from tools.asana.models import Project, Task
from tools.asana.process_cache import ProcessCache
from tools.dependencies.calendar import working_days_inclusive
from tools.dependencies.durations import DEFAULT_POINTS_PER_PERSON_DAY, points_per_person_day
from tools.dependencies.models import TaskNode
from tools.planning.phase import SPRINT_NAME


class DependencyReader(Protocol):
    def find_project(self, workspace_gid: str, name_or_gid: str) -> Project: ...

    def projects(self, workspace_gid: str, archived: bool | None = False) -> list[Project]: ...

    def project_tasks(self, project_gid: str, view: TaskView = ...) -> list[Task]: ...


class Pace(BaseModel):
    points_per_person_day: float
    source: str  # "history" or "default"
    sprints: int = 0
    people: int = 0
    mean_velocity: float | None = None


class SprintRead(BaseModel):
    """A past sprint project and its tasks, as read for the team's pace."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    project: Project
    tasks: list[Task]


class DependencyInputs(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    workspace_gid: str
    projects: list[Project]
    tasks: dict[str, Task]
    home_project: dict[str, str]  # task gid → the read project it was found in (field encoding)
    nodes: list[TaskNode]
    pace: Pace
    missing_fields: list[str] = Field(default_factory=list)
    # task gid → its sprint's due_on, for tasks read without a due date of their own.
    implicit_due: dict[str, date] = Field(default_factory=dict)
    past_sprints: list[SprintRead] = Field(default_factory=list)


def is_sprint_like(project: Project) -> bool:
    """A time-boxed project: both dates set, in order (our "Sprint N" projects are)."""
    return bool(project.start_on and project.due_on and project.due_on >= project.start_on)


def to_node(task: Task, implicit_due: date | None = None) -> TaskNode:
    implicit = task.due_on is None and implicit_due is not None
    return TaskNode(
        gid=task.gid,
        name=task.name or "",
        start_on=task.start_on,
        due_on=implicit_due if implicit else task.due_on,
        due_implicit=implicit,
        points=task.number(STORY_POINTS),
        assignee_gid=task.assignee.gid if task.assignee else None,
        completed=bool(task.completed),
        status=task.text(STATUS),
        depends_on=tuple(d.gid for d in task.dependencies),
    )


def read_past_sprints(asana: DependencyReader, workspace_gid: str, exclude: set[str]) -> list[SprintRead]:
    """Every "Sprint N" project with valid dates outside `exclude`, with its top-level tasks."""
    out = []
    for project in asana.projects(workspace_gid, archived=None):
        if project.gid in exclude or not SPRINT_NAME.match(project.name or ""):
            continue
        if not is_sprint_like(project):
            continue
        tasks = [t for t in asana.project_tasks(project.gid) if not t.parent]
        out.append(SprintRead(project=project, tasks=tasks))
    return out


def pace_of(sprints: list[SprintRead]) -> Pace:
    """Points one person finishes per working day, from completed points of past sprint projects."""
    velocities: list[float] = []
    rates: list[float] = []
    people: set[str] = set()
    for sprint in sprints:
        project, tasks = sprint.project, sprint.tasks
        assert project.start_on is not None and project.due_on is not None
        done = [t for t in tasks if t.completed]
        velocity = sum(t.number(STORY_POINTS) or 0.0 for t in done)
        team = {t.assignee.gid for t in tasks if t.assignee}
        if velocity <= 0 or not team:
            continue
        people |= team
        velocities.append(velocity)
        rates.append(
            points_per_person_day(
                velocity, working_days_inclusive(project.start_on, project.due_on), len(team)
            )
        )
    if not rates:
        return Pace(points_per_person_day=DEFAULT_POINTS_PER_PERSON_DAY, source="default")
    return Pace(
        points_per_person_day=round(statistics.median(rates), 4),
        source="history",
        sprints=len(rates),
        people=len(people),
        mean_velocity=round(statistics.fmean(velocities), 1),
    )


# Past sprints (the pace and the delay model's training rows) change slowly and cost a read per
# sprint: kept in the process for 10 minutes, so each event does not read every past sprint again.
PAST_SPRINTS: ProcessCache[list[SprintRead]] = ProcessCache(ttl_s=600.0)


def read_dependency_inputs(
    asana: DependencyReader,
    workspace_gid: str,
    project_refs: list[str],
    *,
    use_history: bool = True,
    kept: bool = False,
) -> DependencyInputs:
    """`kept`: the projects' task lists from the process's kept copies (tools/asana/task_index.py),
    for event runs, which a worker process keeps current from the inbox; else read whole."""
    projects = [asana.find_project(workspace_gid, ref) for ref in project_refs]
    tasks: dict[str, Task] = {}
    home: dict[str, str] = {}
    sprint_due: dict[str, date] = {}
    for project in projects:
        # The stand-up's view: the Blockers portfolio step reads the same sprints that way (and
        # within one handling gets this same list back).
        listed = (
            kept_project_tasks(asana, project.gid, TaskView.STANDUP)
            if kept
            else asana.project_tasks(project.gid, TaskView.STANDUP)
        )
        for t in listed:
            if t.parent or t.resource_subtype == "approval":
                continue
            tasks.setdefault(t.gid, t)
            home.setdefault(t.gid, project.gid)
            if is_sprint_like(project) and t.due_on is None:
                assert project.due_on is not None
                # In two sprints read at once: the earlier sprint end is the plan to beat.
                sprint_due[t.gid] = min(project.due_on, sprint_due.get(t.gid, project.due_on))
    present = {cf.name for t in tasks.values() for cf in t.custom_fields if cf.name}
    missing = [f for f in (STORY_POINTS, STATUS, RISK_SCORE) if f not in present]
    past = (
        PAST_SPRINTS.get(
            str(getattr(asana, "base_url", "")),
            (workspace_gid, frozenset(p.gid for p in projects)),
            lambda: read_past_sprints(asana, workspace_gid, {p.gid for p in projects}),
        )
        if use_history
        else []
    )
    pace = (
        pace_of(past)
        if use_history
        else Pace(points_per_person_day=DEFAULT_POINTS_PER_PERSON_DAY, source="default")
    )
    # Links recorded only on the prerequisite's side (`dependents`) are folded into the dependent.
    extra: dict[str, set[str]] = {}
    for t in tasks.values():
        for d in t.dependents:
            if d.gid in tasks:
                extra.setdefault(d.gid, set()).add(t.gid)
    nodes = []
    for t in tasks.values():
        node = to_node(t, sprint_due.get(t.gid))
        more = extra.get(t.gid, set()) - set(node.depends_on)
        if more:
            node = replace(node, depends_on=node.depends_on + tuple(sorted(more)))
        nodes.append(node)
    return DependencyInputs(
        workspace_gid=workspace_gid,
        projects=projects,
        tasks=tasks,
        home_project=home,
        nodes=nodes,
        pace=pace,
        missing_fields=missing,
        implicit_due=sprint_due,
        past_sprints=past,
    )
