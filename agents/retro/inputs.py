"""Read a sprint for its retro: the sprint project, its tasks, each task's stories, the
earlier sprints (their "Sprint Retro" notes, or their comments) for recurring themes, the next
sprint (planned or active: action items are due inside it) and the open action items of the
"Process Improvement" project (a proposed item that is already open is linked, not duplicated).

Cost: 1 call for the projects list, 1 per 100 tasks of the sprint, 1 stories call per task
(parallel), plus for each of the last `history` earlier sprints 1 task-list call and, only
when it has no retro task, its tasks' stories, plus 1 per 100 tasks of "Process Improvement".
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from agents.planner.inputs import past_sprint_projects
from tools.asana.field_names import STATUS, STORY_POINTS
from tools.asana.models import Project, Story, Task, User
from tools.planning.phase import SPRINT_NAME, sprint_phase
from tools.retro.models import Comment, DueChange, RetroItem, SprintWindow, Transition

RETRO_TASK_PREFIX = "Sprint Retro"
PROCESS_PROJECT = "Process Improvement"
THEME_LINE = re.compile(r"^\s*-\s+\*\*(.+?)\*\*")
# The first line of an action item's notes this agent writes ("From the Sprint 23 retro: ...").
FROM_RETRO = re.compile(r"^\s*From the (.+?) retro:")


class RetroReader(Protocol):
    def me(self) -> User: ...

    def projects(self, workspace_gid: str, archived: bool | None = False) -> list[Project]: ...

    def find_project(self, workspace_gid: str, name_or_gid: str) -> Project: ...

    def project_tasks(self, project_gid: str) -> list[Task]: ...

    def stories_many(self, task_gids: list[str]) -> dict[str, list[Story]]: ...

    def users(self, workspace_gid: str) -> list[User]: ...


class PreviousSprint(BaseModel):
    name: str
    themes: list[str]
    source: str  # "retro task" | "comments"


class OpenActionItem(BaseModel):
    """An open task of the "Process Improvement" project (an earlier retro's action item, or a
    team member's): a proposed item much like it is linked to it instead of created again."""

    gid: str
    name: str
    assignee_gid: str | None = None
    due_on: date | None = None
    # The sprint whose retro created it (from its notes); None for one a person wrote.
    from_sprint: str | None = None


class RetroInputs(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    workspace_gid: str
    project: Project
    window: SprintWindow
    items: list[RetroItem]
    existing_retro_gid: str | None = None
    previous: list[PreviousSprint] = Field(default_factory=list)
    previous_texts: dict[str, list[tuple[str, str | None, str | None]]] = Field(default_factory=dict)
    process_project: Project | None = None
    people: dict[str, str] = Field(default_factory=dict)
    scrum_master_gid: str | None = None
    # The day the retro runs: action items are due after it, never in the past.
    today: date | None = None
    # The sprint after this one, when it is planned or active (not over): action items are due
    # inside it. None: no such sprint project yet.
    next_sprint: SprintWindow | None = None
    next_sprint_gid: str | None = None
    open_items: list[OpenActionItem] = Field(default_factory=list)


# sprintpilot's own comments are not the team's voice: never evidence for sentiment or themes.
OWN_COMMENT_TAG = "[AI Proposal]"


def is_own_comment(story: Story, bot_gid: str | None) -> bool:
    by_bot = bot_gid is not None and story.created_by is not None and story.created_by.gid == bot_gid
    return by_bot or (story.text or "").lstrip().startswith(OWN_COMMENT_TAG)


def _date(value: object) -> date | None:
    if isinstance(value, date):
        return value
    d = getattr(value, "date", None)
    if isinstance(d, date):
        return d
    if isinstance(d, str):
        try:
            return date.fromisoformat(d[:10])
        except ValueError:
            return None
    return None


def to_item(
    task: Task,
    stories: list[Story],
    project: Project,
    section_names: dict[str, str],
    bot_gid: str | None = None,
) -> RetroItem:
    """Map one sprint task and its stories; only structured story fields choose what they mean."""
    transitions: list[Transition] = []
    dues: list[DueChange] = []
    comments: list[Comment] = []
    added_at: datetime | None = None
    for s in stories:
        if s.created_at is None:
            continue
        sub = s.resource_subtype or ""
        if sub == "comment_added" and s.text:
            if is_own_comment(s, bot_gid):
                continue
            who = s.created_by.name if s.created_by else None
            comments.append(Comment(at=s.created_at, author=who, text=s.text, task_gid=task.gid))
        elif sub == "section_changed" and s.new_section is not None:
            # Only moves inside this sprint project count (the task is multi-homed in the backlog).
            if s.new_section.gid in section_names or (s.old_section and s.old_section.gid in section_names):
                transitions.append(
                    Transition(
                        at=s.created_at,
                        field="section",
                        old=section_names.get(s.old_section.gid) if s.old_section else None,
                        new=section_names.get(s.new_section.gid, s.new_section.name),
                    )
                )
        elif sub == "enum_custom_field_changed" and s.custom_field and s.custom_field.name == STATUS:
            transitions.append(
                Transition(
                    at=s.created_at,
                    field="status",
                    old=s.old_enum_value.name if s.old_enum_value else None,
                    new=s.new_enum_value.name if s.new_enum_value else None,
                )
            )
        elif sub in ("due_date_changed", "due_on_changed"):
            old, new = _date(getattr(s, "old_date_value", None)), _date(getattr(s, "new_date_value", None))
            dues.append(DueChange(at=s.created_at, old=old, new=new))
        elif sub == "added_to_project" and s.project is not None and s.project.gid == project.gid:
            added_at = s.created_at if added_at is None else min(added_at, s.created_at)
    return RetroItem(
        gid=task.gid,
        name=task.name or task.gid,
        notes=task.notes or "",
        points=task.number(STORY_POINTS),
        assignee_gid=task.assignee.gid if task.assignee else None,
        assignee_name=task.assignee.name if task.assignee else None,
        completed=bool(task.completed),
        completed_at=task.completed_at,
        added_at=added_at,
        due_on=task.due_on,
        transitions=sorted(transitions, key=lambda t: t.at),
        due_changes=dues,
        comments=sorted(comments, key=lambda c: c.at),
        status=task.text(STATUS),
    )


def theme_names_from_notes(notes: str) -> list[str]:
    """Theme names from an earlier retro's notes (the "Themes" section this agent writes)."""
    names, inside = [], False
    for line in notes.splitlines():
        if line.startswith("## "):
            inside = line.strip().lower().startswith("## themes")
            continue
        m = THEME_LINE.match(line)
        if inside and m:
            names.append(m.group(1).strip())
    return names


def _is_retro(task: Task) -> bool:
    return (task.name or "").startswith(RETRO_TASK_PREFIX)


def next_sprint_after(
    sprints: list[tuple[int, Project]],
    project: Project,
    number: int | None,
    window: SprintWindow,
    today: date,
) -> Project | None:
    """The first sprint after this one that is planned or active and not over by today."""
    found = []
    for n, p in sprints:
        if p.gid == project.gid or p.start_on is None or p.due_on is None or p.due_on <= today:
            continue
        later = n > number if number is not None else p.start_on >= window.end_on
        if later and sprint_phase(p, today) in ("planned", "active"):
            found.append((p.start_on, n, p))
    return min(found, key=lambda x: (x[0], x[1]))[2] if found else None


def open_action_items(tasks: list[Task]) -> list[OpenActionItem]:
    return [
        OpenActionItem(
            gid=t.gid,
            name=t.name or t.gid,
            assignee_gid=t.assignee.gid if t.assignee else None,
            due_on=t.due_on,
            from_sprint=m.group(1) if (m := FROM_RETRO.match(t.notes or "")) else None,
        )
        for t in tasks
        if not t.completed and not t.parent and t.resource_subtype != "approval" and t.name
    ]


def read_retro_inputs(
    asana: RetroReader, workspace_gid: str, sprint_ref: str | None, *, today: date, history: int = 3
) -> RetroInputs:
    projects = asana.projects(workspace_gid, archived=None)
    sprints = past_sprint_projects(projects, exclude_gid="")
    if sprint_ref:
        project = asana.find_project(workspace_gid, sprint_ref)
    else:
        ended = [p for _, p in sprints if p.due_on is not None and p.due_on <= today]
        if not ended:
            raise ValueError("no sprint project has ended yet; pass --project")
        project = ended[-1]
    if project.start_on is None or project.due_on is None:
        raise ValueError(f"project {project.name!r} has no start and due dates; it is not a sprint window")
    window = SprintWindow(name=project.name or project.gid, start_on=project.start_on, end_on=project.due_on)
    all_tasks = [t for t in asana.project_tasks(project.gid) if not t.parent]
    existing = next((t.gid for t in all_tasks if _is_retro(t)), None)
    tasks = [t for t in all_tasks if not _is_retro(t) and t.resource_subtype != "approval"]
    section_names = {
        m.section.gid: m.section.name or ""
        for t in tasks
        for m in t.memberships
        if m.section and m.project and m.project.gid == project.gid
    }
    stories = asana.stories_many([t.gid for t in tasks]) if tasks else {}
    # Section names of moves inside this project come from the stories themselves when the
    # task's current membership does not show every section (e.g. "In Progress" after Done).
    for rows in stories.values():
        for s in rows:
            if s.resource_subtype == "section_changed" and f"in {project.name}" in (s.text or ""):
                for ref in (s.old_section, s.new_section):
                    if ref is not None and ref.name:
                        section_names.setdefault(ref.gid, ref.name)
    bot = asana.me().gid
    items = [to_item(t, stories.get(t.gid, []), project, section_names, bot) for t in tasks]
    previous = []
    previous_texts: dict[str, list[tuple[str, str | None, str | None]]] = {}
    number = next((n for n, p in sprints if p.gid == project.gid), None)
    m = SPRINT_NAME.match(project.name or "")
    number = number if number is not None else (int(m.group(1)) if m else None)
    earlier = [p for n, p in sprints if number is not None and n < number]
    earlier = earlier[-history:] if history > 0 else []
    for p in earlier:
        ptasks = [t for t in asana.project_tasks(p.gid) if not t.parent]
        retro = next((t for t in ptasks if _is_retro(t) and t.notes), None)
        if retro is not None:
            previous.append(
                PreviousSprint(
                    name=p.name or p.gid,
                    themes=theme_names_from_notes(retro.notes or ""),
                    source="retro task",
                )
            )
            continue
        texts: list[tuple[str, str | None, str | None]] = [(t.name or "", t.gid, t.name) for t in ptasks]
        pst = asana.stories_many([t.gid for t in ptasks]) if ptasks else {}
        for t in ptasks:
            texts += [
                (s.text, t.gid, t.name)
                for s in pst.get(t.gid, [])
                if s.resource_subtype == "comment_added" and s.text and not is_own_comment(s, bot)
            ]
        previous_texts[p.name or p.gid] = texts
    process = next((p for p in projects if (p.name or "") == PROCESS_PROJECT), None)
    open_items = open_action_items(asana.project_tasks(process.gid)) if process is not None else []
    following = next_sprint_after(sprints, project, number, window, today)
    users = asana.users(workspace_gid)
    backlog = next((p for p in projects if (p.name or "") == "Product Backlog"), None)
    return RetroInputs(
        workspace_gid=workspace_gid,
        project=project,
        window=window,
        items=items,
        existing_retro_gid=existing,
        previous=previous,
        previous_texts=previous_texts,
        process_project=process,
        people={u.gid: u.name or u.gid for u in users if u.gid != bot},
        scrum_master_gid=backlog.owner.gid if backlog is not None and backlog.owner is not None else None,
        today=today,
        next_sprint=SprintWindow(
            name=following.name or following.gid, start_on=following.start_on, end_on=following.due_on
        )
        if following is not None and following.start_on is not None and following.due_on is not None
        else None,
        next_sprint_gid=following.gid if following is not None else None,
        open_items=open_items,
    )
