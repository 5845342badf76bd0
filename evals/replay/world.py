"""Build the sandbox world for one recorded sprint and apply what really happened, day by day.

The world: workspace, team, pseudonymous users + the sprintpilot bot and a scrum master (owner of
the backlog), the planner's custom fields, the "Product Backlog" project holding the candidate
backlog (the sprint's starting scope, open carry-over, upcoming issues that already existed) and
the completed issues of earlier sprints (so triage has history), and one past sprint project per
earlier recorded sprint ("Sprint N", To Do/In Progress/Done, completed tasks dated on their
recorded completion day) so the planner sees the team's real velocity. All writes here are
direct store inserts: they are "the world", not agent actions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from evals.recorded.models import (
    AssigneeChanged,
    Commented,
    RecordedSprint,
    RecordedTask,
    ReEstimated,
    TaskAdded,
    TaskCompleted,
    TaskMoved,
    TaskRemoved,
)
from sandbox.store import Store
from tools.asana.field_names import STORY_POINTS

TOKEN = "replay-bot-token"
BOT_NAME = "sprintpilot"
WORK_START = time(9, 0)
EVENT_TIME = time(11, 0)
DONE_TIME = time(16, 0)


def at(day: date, when: time) -> datetime:
    return datetime.combine(day, when, tzinfo=UTC)


class Clock:
    """The frozen replay clock (the store and the agents read the same instant)."""

    def __init__(self, start: datetime) -> None:
        self.current = start

    def __call__(self) -> datetime:
        return self.current

    def set(self, value: datetime) -> None:
        self.current = value


@dataclass
class World:
    store: Store
    clock: Clock
    workspace: str
    bot: str
    backlog: str
    sections: dict[str, dict[str, str]]  # project gid -> section name -> gid
    fields: dict[str, str]  # field name -> gid
    users: dict[str, str]  # recorded user id -> gid
    tasks: dict[str, str] = field(default_factory=dict)  # recorded task id -> gid
    keys: dict[str, str] = field(default_factory=dict)  # gid -> recorded task id
    sprint_project: str | None = None

    def gid(self, task_id: str) -> str:
        return self.tasks[task_id]


def final_points(rs: RecordedSprint) -> dict[str, float | None]:
    """Story Points of every task of a recording after its re-estimates."""
    points: dict[str, float | None] = {}
    for t in rs.snapshot.tasks:
        points[t.id] = as_number(t.fields.get(STORY_POINTS))
    for e in rs.events:
        if isinstance(e, TaskAdded):
            points[e.task] = as_number(e.data.fields.get(STORY_POINTS))
        elif isinstance(e, ReEstimated) and e.field == STORY_POINTS:
            points[e.task] = e.new
    return points


def as_number(value: object) -> float | None:
    """A recorded (JSON) value as a number: None unless it is an int or float (not a bool)."""
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def members_of(rs: RecordedSprint) -> dict[str, RecordedTask]:
    """Every task that was in the sprint at some point (starting scope + added)."""
    by_id = {t.id: t for t in rs.snapshot.tasks}
    out = {tid: by_id[tid] for tid in rs.snapshot.sprint_scope}
    for e in rs.events:
        if isinstance(e, TaskAdded):
            out[e.task] = e.data
    return out


def completion_days(rs: RecordedSprint) -> dict[str, int]:
    return {e.task: e.day for e in rs.events if isinstance(e, TaskCompleted)}


class WorldBuilder:
    def __init__(self, rs: RecordedSprint, history: list[RecordedSprint]) -> None:
        self.rs = rs
        self.history = history

    def build(self) -> World:
        rs = self.rs
        store = Store()
        clock = Clock(at(rs.start_on, WORK_START))
        store.set_clock(clock)
        snap = rs.snapshot
        ws = store.add_workspace(snap.workspace, is_organization=True).gid
        bot = store.add_user(BOT_NAME, "sprintpilot@example.invalid", workspaces=[ws]).gid
        store.add_token(TOKEN, bot)
        master = store.add_user("Scrum Master", "scrum.master@example.invalid", workspaces=[ws]).gid
        users = {u.id: store.add_user(u.name, u.email, workspaces=[ws]).gid for u in snap.users}
        for h in self.history:
            for u in h.snapshot.users:
                if u.id not in users:
                    users[u.id] = store.add_user(u.name, u.email, workspaces=[ws]).gid
        team = store.add_team(ws, snap.team, members=[master, *users.values()]).gid
        fields = {}
        for f in snap.fields:
            subtype = "enum" if f.type == "enum" else f.type
            fields[f.name] = store.add_custom_field(
                ws, f.name, subtype, precision=f.precision, enum_options=tuple(f.options)
            ).gid
        backlog_spec = next(p for p in snap.projects if p.kind == "backlog")
        created = at(self.history[0].start_on if self.history else rs.start_on, time(8, 0)) - timedelta(
            days=1
        )
        backlog = store.add_project(
            ws, backlog_spec.name, team=team, owner=master, created_at=created, members=[master]
        ).gid
        world = World(store, clock, ws, bot, backlog, {}, fields, users)
        world.sections[backlog] = {
            s: store.add_section(backlog, s, created_at=created).gid for s in backlog_spec.sections
        }
        for fg in fields.values():
            store.add_field_setting(backlog, fg)
        # The candidate backlog first (its state at sprint start wins over older history).
        for t in snap.tasks:
            insert_task(world, t, backlog, created)
        self._history(world, team, master)
        return world

    def _history(self, world: World, team: str, master: str) -> None:
        store = world.store
        done_section = world.sections[world.backlog]["Done"]
        for h in self.history:
            project = store.add_project(
                world.workspace,
                h.name,
                team=team,
                owner=master,
                created_at=at(h.start_on, time(8, 0)),
                start_on=h.start_on,
                due_on=h.end_on,
                notes=next((p.notes for p in h.snapshot.projects if p.kind == "sprint"), ""),
            ).gid
            secs = {
                s: store.add_section(project, s, created_at=at(h.start_on, time(8, 0))).gid
                for s in ("To Do", "In Progress", "Done")
            }
            for fg in world.fields.values():
                store.add_field_setting(project, fg)
            points = final_points(h)
            done_days = completion_days(h)
            punted = set(h.outcome.punted_items)
            for tid, t in members_of(h).items():
                if tid in punted:
                    continue
                gid = world.tasks.get(tid)
                if gid is None:
                    gid = insert_task(world, t, world.backlog, at(h.start_on, time(8, 0)))
                    if tid in done_days:
                        store.move_task_to_section(gid, done_section)
                task = store.tasks[gid]
                pts = points.get(tid)
                if pts is not None and tid not in {x.id for x in self.rs.snapshot.tasks}:
                    task.custom_fields[world.fields[STORY_POINTS]] = store.coerce_field_value(
                        world.fields[STORY_POINTS], pts
                    )
                if tid in done_days:
                    task.completed = True
                    task.completed_at = _iso(at(h.start_on + timedelta(days=done_days[tid]), DONE_TIME))
                    store.add_task_to_project(gid, project, secs["Done"])
                else:
                    store.add_task_to_project(gid, project, secs["In Progress"])


def insert_task(world: World, t: RecordedTask, project: str, created: datetime) -> str:
    store = world.store
    section = next((m.section for m in t.memberships if m.project == "backlog"), "Backlog")
    sec = world.sections[project].get(section) or next(iter(world.sections[project].values()))
    values = {world.fields[k]: v for k, v in t.fields.items() if k in world.fields and v is not None}
    gid = store.add_task(
        world.workspace,
        t.name,
        notes=t.notes,
        created_at=at(t.created_on, WORK_START) if t.created_on else created,
        assignee=world.users.get(t.assignee) if t.assignee else None,
        memberships=[(project, sec)],
        custom_fields=values,
    ).gid
    world.tasks[t.id] = gid
    world.keys[gid] = t.id
    return gid


def _iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def open_sprint(world: World, rs: RecordedSprint) -> str:
    """Create the real sprint project at day 0 and put the real starting scope in To Do."""
    store = world.store
    spec = next(p for p in rs.snapshot.projects if p.kind == "sprint")
    owner = store.projects[world.backlog].owner
    project = store.add_project(
        world.workspace,
        f"{spec.name} (recorded)",
        team=store.projects[world.backlog].team,
        owner=owner,
        start_on=rs.start_on,
        due_on=rs.end_on,
        notes=spec.notes,
    ).gid
    world.sections[project] = {s: store.add_section(project, s).gid for s in spec.sections}
    for fg in world.fields.values():
        store.add_field_setting(project, fg)
    for tid in rs.snapshot.sprint_scope:
        store.add_task_to_project(world.tasks[tid], project, world.sections[project]["To Do"])
    world.sprint_project = project
    return project


def _project(world: World, ref: str) -> str:
    if ref == "sprint":
        assert world.sprint_project is not None
        return world.sprint_project
    return world.backlog if ref == "backlog" else ref


def apply_event(world: World, event: object, start: date) -> str | None:
    """Apply one recorded event to the store; returns the gid of a task added by it."""
    store = world.store
    now = world.clock()
    if isinstance(event, TaskAdded):
        return insert_task(world, event.data, world.backlog, now)
    gid = world.tasks[event.task]  # type: ignore[attr-defined]
    task = store.tasks[gid]
    if isinstance(event, TaskMoved):
        project = _project(world, event.project)
        store.add_task_to_project(gid, project, world.sections[project][event.section])
    elif isinstance(event, TaskRemoved):
        store.remove_task_from_project(gid, _project(world, event.project))
    elif isinstance(event, TaskCompleted):
        task.completed = True
        task.completed_at = _iso(now.replace(hour=DONE_TIME.hour))
        if world.sprint_project and any(m["project"] == world.sprint_project for m in task.memberships):
            store.add_task_to_project(gid, world.sprint_project, world.sections[world.sprint_project]["Done"])
        store.add_task_to_project(gid, world.backlog, world.sections[world.backlog]["Done"])
    elif isinstance(event, ReEstimated):
        cf = world.fields.get(event.field)
        if cf is not None:
            task.custom_fields[cf] = store.coerce_field_value(cf, event.new)
    elif isinstance(event, Commented):
        author = world.users.get(event.author) if event.author else None
        store.add_story(gid, text=event.text, created_by=author)
    elif isinstance(event, AssigneeChanged):
        task.assignee = world.users.get(event.new) if event.new else None
    return None
