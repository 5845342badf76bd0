"""Read what the planner needs from Asana and map it onto tools.planning's plain models.

Cost: one call per 100 tasks for the backlog and for each past sprint project, plus a handful of
metadata calls (projects, users, the backlog project itself). No per-task reads.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from tools.asana.field_names import BUSINESS_VALUE, EFFORT, PRIORITY, SPRINT, STATUS, STORY_POINTS
from tools.asana.models import CustomFieldSetting, Project, Section, Task, User
from tools.planning.models import BacklogItem, Person, SprintRecord
from tools.planning.phase import SPRINT_NAME, SprintPhase, has_ended, sprint_phase

DEFAULT_SPRINT_DAYS = 14

PLANNING_FIELDS = (STORY_POINTS, BUSINESS_VALUE, EFFORT, PRIORITY, STATUS, SPRINT)


class PastSprint(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    number: int
    project: Project
    record: SprintRecord
    phase: SprintPhase = "finished"
    ended: bool = True  # finished, or on its last day (see tools.planning.phase.has_ended)


class PlanningInputs(BaseModel):
    """Everything the plan is computed from, already mapped (and kept for the evidence)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    workspace_gid: str
    backlog: Project
    items: list[BacklogItem]
    tasks: dict[str, Task]
    done_gids: set[str]
    people: list[Person]
    sprints: list[PastSprint]
    missing_fields: list[str] = Field(default_factory=list)
    bot_gid: str | None = None
    # Open tasks already in a planned or active sprint: never picked again (no double-booking).
    committed_gids: set[str] = Field(default_factory=set)

    @property
    def next_sprint_number(self) -> int:
        return max((s.number for s in self.sprints), default=0) + 1

    @property
    def history(self) -> list[PastSprint]:
        """Sprints that have ended: what velocity and forecasts may learn from."""
        return [s for s in self.sprints if s.ended]


def to_backlog_item(task: Task) -> BacklogItem:
    return BacklogItem(
        gid=task.gid,
        name=task.name or "",
        points=task.number(STORY_POINTS),
        business_value=task.number(BUSINESS_VALUE),
        effort=task.number(EFFORT),
        priority=task.text(PRIORITY),
        status=task.text(STATUS),
        tags=sorted({(t.name or "").strip().lower() for t in task.tags if t.name}),
        assignee_gid=task.assignee.gid if task.assignee else None,
        depends_on=[d.gid for d in task.dependencies],
        completed=bool(task.completed),
        created_at=task.created_at,
    )


def _end_of(day: date | None) -> datetime | None:
    return None if day is None else datetime.combine(day, time.max)


def sprint_record(project: Project, tasks: list[Task]) -> SprintRecord:
    """Committed = every task of the sprint project; completed = done by the sprint's end date."""
    end = _end_of(project.due_on)
    committed = completed = 0.0
    done_items = carried = 0
    for t in tasks:
        pts = t.number(STORY_POINTS) or 0.0
        committed += pts
        finished = bool(t.completed) and (
            end is None or t.completed_at is None or t.completed_at.replace(tzinfo=None) <= end
        )
        if finished:
            completed += pts
            done_items += 1
        else:
            carried += 1
    return SprintRecord(
        name=project.name or project.gid,
        start_on=project.start_on,
        end_on=project.due_on,
        committed_points=committed,
        completed_points=completed,
        completed_items=done_items,
        carried_over_items=carried,
    )


def past_sprint_projects(projects: list[Project], exclude_gid: str) -> list[tuple[int, Project]]:
    found = []
    for p in projects:
        m = SPRINT_NAME.match(p.name or "")
        if m and p.gid != exclude_gid:
            found.append((int(m.group(1)), p))
    return sorted(found, key=lambda x: x[0])


def people_from_history(
    users: list[Any], sprint_tasks: list[Task], bot_gid: str | None, availability: dict[str, float]
) -> list[Person]:
    """Team members with the tags of work they finished (skill evidence) and their past points."""
    tag_points: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    past: dict[str, float] = defaultdict(float)
    for t in sprint_tasks:
        if not (t.assignee and t.completed):
            continue
        pts = t.number(STORY_POINTS) or 0.0
        past[t.assignee.gid] += pts
        for tag in t.tags:
            if tag.name:
                tag_points[t.assignee.gid][tag.name.strip().lower()] += pts or 1.0
    people = []
    for u in users:
        if u.gid == bot_gid:
            continue
        hist = dict(tag_points.get(u.gid, {}))
        skills = sorted(hist, key=lambda k: (-hist[k], k))[:3]
        people.append(
            Person(
                gid=u.gid,
                name=u.name or u.gid,
                skills=skills,
                tag_history=hist,
                past_points=past.get(u.gid, 0.0),
                availability_points=availability.get(u.gid) if availability else None,
            )
        )
    return people


def next_sprint_window(sprints: list[PastSprint], today: date) -> tuple[date, date]:
    """Start the Monday after the last sprint (or after today), keep the last sprint's length."""
    length = DEFAULT_SPRINT_DAYS
    start_from = today
    if sprints:
        last = sprints[-1].project
        if last.start_on and last.due_on and last.due_on >= last.start_on:
            length = (last.due_on - last.start_on).days + 1
        if last.due_on:
            start_from = max(today, last.due_on + timedelta(days=1))
    start = start_from + timedelta(days=(7 - start_from.weekday()) % 7)
    return start, start + timedelta(days=length - 1)


class PlannerReader(Protocol):
    """The read calls the planner makes (the typed Asana client satisfies it)."""

    def me(self) -> User: ...

    def users(self, workspace_gid: str) -> list[User]: ...

    def projects(self, workspace_gid: str, archived: bool | None = False) -> list[Project]: ...

    def find_project(self, workspace_gid: str, name_or_gid: str) -> Project: ...

    def project_tasks(self, project_gid: str) -> list[Task]: ...


# The sprint board when neither the last sprint nor the backlog has sections to copy.
DEFAULT_SECTIONS = ("To do", "In progress", "Done")
# Asana's name for the one section a new project starts with: never a column worth copying.
UNTITLED_SECTION = "Untitled section"


class SprintBoard(BaseModel):
    """How the new sprint project is set up so the team and the other agents can use it: the
    sections of the team's board, the custom fields the agents read and write, a human owner."""

    sections: list[str]
    sections_from: str  # the project copied, or "default"
    fields: list[str] = Field(default_factory=list)
    fields_from: str | None = None  # gid of the project whose fields these are (the backlog)
    owner_gid: str | None = None
    owner_from: str | None = None  # "last sprint" | "backlog" | "approver"


class BoardReader(Protocol):
    def sections(self, project_gid: str) -> list[Section]: ...

    def custom_field_settings(self, project_gid: str) -> list[CustomFieldSetting]: ...


def _columns(sections: list[Section]) -> list[str]:
    names = [(s.name or "").strip() for s in sections]
    return list(dict.fromkeys(n for n in names if n and n != UNTITLED_SECTION))


def _human(project: Project | None, bot_gid: str | None) -> str | None:
    owner = project.owner if project is not None else None
    return owner.gid if owner is not None and owner.gid != bot_gid else None


def read_board(asana: BoardReader, inputs: PlanningInputs, approver_gid: str | None = None) -> SprintBoard:
    """The board to copy: the last sprint's sections, else the backlog's, else To do/In
    progress/Done; every custom field on the backlog; the owner of the last sprint, else of the
    backlog, else the approver (never sprintpilot itself). Cost: 2–3 calls."""
    last = inputs.sprints[-1].project if inputs.sprints else None
    sections, source = (_columns(asana.sections(last.gid)), last.name or last.gid) if last else ([], "")
    if not sections:
        sections, source = (
            _columns(asana.sections(inputs.backlog.gid)),
            inputs.backlog.name or inputs.backlog.gid,
        )
    if not sections:
        sections, source = list(DEFAULT_SECTIONS), "default"
    fields = [
        s.custom_field.name for s in asana.custom_field_settings(inputs.backlog.gid) if s.custom_field.name
    ]
    owner, owner_from = _human(last, inputs.bot_gid), "last sprint"
    if owner is None:
        owner, owner_from = _human(inputs.backlog, inputs.bot_gid), "backlog"
    if owner is None and approver_gid and approver_gid != inputs.bot_gid:
        owner, owner_from = approver_gid, "approver"
    return SprintBoard(
        sections=sections,
        sections_from=source,
        fields=list(dict.fromkeys(fields)),
        fields_from=inputs.backlog.gid if fields else None,
        owner_gid=owner,
        owner_from=owner_from if owner else None,
    )


def read_planning_inputs(
    asana: PlannerReader,
    workspace_gid: str,
    backlog_ref: str,
    *,
    availability: dict[str, float] | None = None,
    today: date | None = None,
) -> PlanningInputs:
    """`today` decides each sprint's phase (default: the UTC date now)."""
    day = today or datetime.now(UTC).date()
    backlog = asana.find_project(workspace_gid, backlog_ref)
    tasks = [t for t in asana.project_tasks(backlog.gid) if not t.parent and t.resource_subtype != "approval"]
    present = {cf.name for t in tasks for cf in t.custom_fields if cf.name}
    missing = [f for f in PLANNING_FIELDS if f not in present]
    bot_gid = asana.me().gid
    sprints: list[PastSprint] = []
    sprint_tasks: list[Task] = []
    committed: set[str] = set()
    for number, project in past_sprint_projects(asana.projects(workspace_gid, archived=None), backlog.gid):
        ptasks = [t for t in asana.project_tasks(project.gid) if not t.parent]
        sprint_tasks.extend(ptasks)
        phase, ended = sprint_phase(project, day), has_ended(project, day)
        if not ended:  # on a sprint's last day its open tasks are carry-over candidates again
            committed |= {t.gid for t in ptasks if not t.completed}
        sprints.append(
            PastSprint(
                number=number,
                project=project,
                record=sprint_record(project, ptasks),
                phase=phase,
                ended=ended,
            )
        )
    users = asana.users(workspace_gid)
    people = people_from_history(users, sprint_tasks, bot_gid, availability or {})
    items = [to_backlog_item(t) for t in tasks]
    done = {t.gid for t in tasks if t.completed} | {t.gid for t in sprint_tasks if t.completed}
    return PlanningInputs(
        workspace_gid=workspace_gid,
        backlog=backlog,
        items=items,
        tasks={t.gid: t for t in tasks},
        done_gids=done,
        people=people,
        sprints=sprints,
        missing_fields=missing,
        bot_gid=bot_gid,
        committed_gids=committed,
    )
