"""Read what a ceremony's agenda is built from, and what sprintpilot already prepared for it.

The team is named by its backlog project (as for the planner and the forecast). The sprint a
ceremony is about: for planning, the planned sprint if one exists, else the next one (the planner's
window rule); for the review and the retro, the active sprint, else the last one that ended. The
ceremony's task lives in the team's ceremonies project ("<team> ceremonies"), never in the backlog
or a sprint, where the planner, triage and the retro would take it for work.

Cost: the planner's reads (backlog, sprint projects, users), plus for planning the forecast (no
calls), for review/retro the sprint's stories (the review's reads), the "Process Improvement"
project's tasks, the team's members (the invite's attendees), and for an existing ceremony task
its attachments and stories.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict

from agents.planner.inputs import PlanningInputs, next_sprint_window, read_planning_inputs
from agents.retro.inputs import PROCESS_PROJECT, open_action_items
from agents.retro.review_inputs import review_tasks
from tools.asana.models import Project, Task
from tools.ceremonies.agenda import ActionLine, BacklogLine, Forecast
from tools.ceremonies.ics import Person
from tools.ceremonies.times import Ceremony
from tools.retro.models import SprintWindow
from tools.retro.review_doc import ReviewTask

GROOMED_SECTIONS = ("ready", "backlog")  # in this order; Icebox and work in flight are not candidates
KEY_PREFIX = "⟨sp-ceremony:"
REMINDER_PREFIX = "⟨sp-reminder:"


class CeremonyInputs(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    workspace_gid: str
    ceremony: Ceremony
    backlog: Project
    team_gid: str | None
    calendar_name: str
    calendar_project: Project | None
    sprint: SprintWindow
    sprint_gid: str | None
    existing: Task | None = None
    existing_attachments: list[str] = []
    reminder_sent: bool = False
    forecast: Forecast = Forecast()
    backlog_lines: list[BacklogLine] = []
    actions: list[ActionLine] = []
    review_tasks: list[ReviewTask] = []
    organizer: Person | None = None
    attendees: list[Person] = []

    @property
    def key(self) -> str:
        return f"{KEY_PREFIX}{self.ceremony}:{self.sprint.name}⟩"

    @property
    def reminder_key(self) -> str:
        return f"{REMINDER_PREFIX}{self.ceremony}:{self.sprint.name}⟩"


def _window(project: Project) -> SprintWindow | None:
    if project.start_on is None or project.due_on is None:
        return None
    return SprintWindow(name=project.name or project.gid, start_on=project.start_on, end_on=project.due_on)


def ceremony_sprint(
    planning: PlanningInputs, ceremony: Ceremony, today: date
) -> tuple[SprintWindow, str | None]:
    by_phase = {
        ph: [s for s in planning.sprints if s.phase == ph] for ph in ("planned", "active", "finished")
    }
    if ceremony == "planning":
        for s in by_phase["planned"]:
            if (w := _window(s.project)) is not None:
                return w, s.project.gid
        start, end = next_sprint_window(planning.sprints, today)
        return SprintWindow(name=f"Sprint {planning.next_sprint_number}", start_on=start, end_on=end), None
    for s in [*reversed(by_phase["active"]), *reversed(by_phase["finished"])]:
        if (w := _window(s.project)) is not None:
            return w, s.project.gid
    raise ValueError(f"no active or ended sprint to hold a {ceremony} for")


def groomed_backlog(planning: PlanningInputs, top: int) -> list[BacklogLine]:
    ranked: dict[str, list[BacklogLine]] = {s: [] for s in GROOMED_SECTIONS}
    for item in planning.items:
        task = planning.tasks.get(item.gid)
        if task is None or item.is_done or item.gid in planning.committed_gids:
            continue
        section = task.section_in(planning.backlog.gid)
        name = (section.name or "").strip().lower() if section is not None else "backlog"
        if name in ranked:
            ranked[name].append(BacklogLine(name=item.name, points=item.points, priority=item.priority))
    return [line for s in GROOMED_SECTIONS for line in ranked[s]][:top]


def forecast_numbers(planning: PlanningInputs, today: date) -> Forecast:
    from agents.forecast.compute import compute_forecast

    history = [s.record.completed_points for s in planning.history]
    if not any(history):
        return Forecast()
    f = compute_forecast(planning, scope=None, by=None, today=today)
    items = f.next_sprint_items
    return Forecast(
        history=[float(h) for h in history[-6:] if h is not None],
        p50=round(f.next_sprint.p(50), 1),
        p85=round(f.next_sprint.p(85), 1),
        items_p50=round(items.p(50), 1) if items is not None else None,
        capacity=round(f.capacity.team_capacity, 1),
    )


def action_lines(asana: Any, projects: list[Project], names: dict[str, str]) -> list[ActionLine]:
    process = next((p for p in projects if (p.name or "") == PROCESS_PROJECT), None)
    if process is None:
        return []
    items = open_action_items(asana.project_tasks(process.gid))
    # Retro action items first (their notes say which retro made them), then the team's own.
    items.sort(key=lambda x: (x.from_sprint is None, x.due_on or date.max, x.name))
    return [
        ActionLine(
            name=x.name,
            owner=names.get(x.assignee_gid or ""),
            due_on=x.due_on.isoformat() if x.due_on else None,
            from_sprint=x.from_sprint,
        )
        for x in items
    ]


def read_ceremony_inputs(
    asana: Any, workspace_gid: str, backlog_ref: str, ceremony: Ceremony, *, today: date, top: int = 10
) -> CeremonyInputs:
    planning = read_planning_inputs(asana, workspace_gid, backlog_ref, today=today)
    backlog = planning.backlog
    sprint, sprint_gid = ceremony_sprint(planning, ceremony, today)
    projects = asana.projects(workspace_gid)
    team_gid = backlog.team.gid if backlog.team is not None else None
    owner = backlog.team.name if backlog.team is not None and backlog.team.name else backlog.name
    calendar_name = f"{owner} ceremonies"
    calendar = next(
        (
            p
            for p in projects
            if p.name == calendar_name
            and not p.archived
            and (team_gid is None or (p.team and p.team.gid == team_gid))
        ),
        None,
    )
    inputs = CeremonyInputs(
        workspace_gid=workspace_gid,
        ceremony=ceremony,
        backlog=backlog,
        team_gid=team_gid,
        calendar_name=calendar_name,
        calendar_project=calendar,
        sprint=sprint,
        sprint_gid=sprint_gid,
    )
    from agents.ceremonies.invite import invite_people

    inputs.organizer, inputs.attendees = invite_people(asana, workspace_gid, backlog, planning.bot_gid)
    names = {p.gid: p.name for p in planning.people}
    inputs.actions = action_lines(asana, projects, names) if ceremony != "review" else []
    if ceremony == "planning":
        inputs.forecast = forecast_numbers(planning, today)
        inputs.backlog_lines = groomed_backlog(planning, top)
    elif sprint_gid is not None:
        project = next(s.project for s in planning.sprints if s.project.gid == sprint_gid)
        inputs.review_tasks = review_tasks(asana, project, sprint)
    if calendar is not None:
        key = inputs.key
        inputs.existing = next(
            (t for t in asana.project_tasks(calendar.gid) if not t.completed and key in (t.notes or "")), None
        )
    if inputs.existing is not None:
        inputs.existing = asana.task(inputs.existing.gid)  # the detail view: due_at
        inputs.existing_attachments = [a.name or "" for a in asana.attachments(inputs.existing.gid)]
        inputs.reminder_sent = any(
            inputs.reminder_key in (s.text or "") for s in asana.stories(inputs.existing.gid)
        )
    return inputs
