"""Seeded synthetic Asana workspace ("Acme Product", team "Mobile") for the sandbox.

`generate_workspace(seed)` simulates a team's past sprints and open backlog
(`sandbox.generator_history`) and writes the result into a fresh `Store` through its
direct-insertion API, with every timestamp derived from the anchor date. The same seed and
anchor always give a byte-identical saved state: no wall clock, no uuid4, no set iteration.

Workspace contract (names are looked up by the agents): custom fields "Story Points",
"Priority", "Business Value", "Effort", "Sprint", "Status", "AI Priority Score",
"Estimated Story Points", "Risk Score", "AI Suggestion", "Impediments"; projects
"Product Backlog", "Sprint N" (past sprints), "Process Improvement"; portfolio "Mobile Portfolio"
holding the backlog and the sprints, with the portfolio field "Health" (number, empty).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sandbox.generator_calendar import DEFAULT_ANCHOR, asana_time
from sandbox.generator_history import (
    BACKLOG_SECTIONS,
    PRIORITIES,
    SPRINT_SECTIONS,
    STATUSES,
    PlanEvent,
    PlanItem,
    WorkspacePlan,
    build_plan,
)
from sandbox.generator_people import EMAIL_DOMAIN, SKILLS
from sandbox.generator_scale import LargeProject, generate_large_project
from sandbox.store import Store

__all__ = [
    "FIELD_SPECS",
    "GeneratedWorkspace",
    "LargeProject",
    "format_summary",
    "generate_large_project",
    "generate_workspace",
]

WORKSPACE_NAME = "Acme Product"
TEAM_NAME = "Mobile"
BACKLOG_NAME = "Product Backlog"
PROCESS_NAME = "Process Improvement"
PORTFOLIO_NAME = "Mobile Portfolio"
BOT_NAME = "sprintpilot"

# (name, resource_subtype, precision, enum options, description)
FIELD_SPECS: tuple[tuple[str, str, int, tuple[str, ...], str], ...] = (
    ("Story Points", "number", 0, (), "Relative size (Fibonacci)."),
    ("Priority", "enum", 0, PRIORITIES, ""),
    ("Business Value", "number", 0, (), "Value to the business, 1-100."),
    ("Effort", "number", 0, (), "Effort estimate, 1-10."),
    ("Sprint", "text", 0, (), 'Sprint the task is planned in, e.g. "Sprint 23".'),
    ("Status", "enum", 0, STATUSES, ""),
    ("AI Priority Score", "number", 1, (), "Set by sprintpilot."),
    ("Estimated Story Points", "number", 0, (), "Set by sprintpilot."),
    ("Risk Score", "number", 0, (), "Delay risk 0-100, set by sprintpilot."),
    ("AI Suggestion", "text", 0, (), "Set by sprintpilot."),
    ("Impediments", "text", 0, (), "Blockers reported at stand-up."),
)
# The portfolio's field (a column of its projects): team health 0-100, written by the health
# agent. A number rather than an On track/At risk/Off track enum: the band is already carried by
# each status update's colour, while a number sorts, compares across projects and shows a trend.
HEALTH_FIELD_SPEC = ("Health", "number", 1, "Team health 0-100 (higher is healthier), set by sprintpilot.")
_IMPORTANT_FIELDS = {"Story Points", "Priority", "Status", "Sprint"}
_ENUM_COLORS = {
    "Critical": "red",
    "High": "orange",
    "Medium": "yellow-orange",
    "Low": "blue-green",
    "Not Started": "cool-gray",
    "In Progress": "blue",
    "Blocked": "red",
    "Ready for Review": "purple",
    "Done": "green",
}
_TAG_COLORS = {
    "backend": "dark-blue",
    "frontend": "light-teal",
    "mobile": "dark-green",
    "data": "light-purple",
    "devops": "dark-orange",
    "design": "light-pink",
    "qa": "dark-warm-gray",
}


@dataclass
class GeneratedWorkspace:
    store: Store
    token: str  # bearer token of the bot user "sprintpilot" (deterministic per seed)
    workspace_gid: str
    team_gid: str
    backlog_project_gid: str
    sprint_project_gids: list[str]  # past sprints, oldest first
    process_project_gid: str
    portfolio_gid: str
    scrum_master_gid: str
    anchor: date
    bot_gid: str = ""
    # Human teammates: user gid -> bearer token (lets tests act as, e.g., the approver).
    user_tokens: dict[str, str] = field(default_factory=dict)
    field_gids: dict[str, str] = field(default_factory=dict)  # custom field name -> gid
    plan: WorkspacePlan | None = None  # the simulation behind the state (for tests and evals)


def _token(seed: int, who: str) -> str:
    digest = hashlib.sha256(f"sprintpilot-sandbox:{seed}:{who}".encode()).hexdigest()
    return f"sp_sandbox_{digest[:40]}"


class _Writer:
    """Writes a `WorkspacePlan` into a store; keeps the plan-key -> gid maps."""

    def __init__(self, store: Store, plan: WorkspacePlan) -> None:
        self.store = store
        self.plan = plan
        self.user_gids: dict[str, str] = {}
        self.field_gids: dict[str, str] = {}
        self.tag_gids: dict[str, str] = {}
        self.task_gids: dict[int, str] = {}
        self.sections: dict[str, dict[str, str]] = {}  # project key -> section name -> gid
        self.project_gids: dict[str, str] = {}  # "backlog", "sprint:<i>", "process"

    def _user(self, key: str) -> str:
        return self.user_gids[key]

    def write(self) -> GeneratedWorkspace:
        plan, store = self.plan, self.store
        first_sprint = plan.sprints[0].window.start
        genesis = datetime.combine(first_sprint - timedelta(days=120), time(9, 0), tzinfo=UTC)

        ws = store.add_workspace(WORKSPACE_NAME, is_organization=True, email_domains=[EMAIL_DOMAIN])
        for person in plan.people:
            user = store.add_user(person.name, person.email, workspaces=[ws.gid])
            self.user_gids[person.key] = user.gid
        bot = store.add_user(BOT_NAME, f"{BOT_NAME}@{EMAIL_DOMAIN}", workspaces=[ws.gid])
        sm = self._user(plan.scrum_master.key)
        people = [self._user(p.key) for p in plan.people]
        team = store.add_team(
            ws.gid,
            TEAM_NAME,
            members=people,
            description="Builds the Acme shopping app for iOS, Android and the web.",
        )

        for name, subtype, precision, options, description in FIELD_SPECS:
            cf = store.add_custom_field(
                ws.gid,
                name,
                subtype,
                precision=precision,
                description=description,
                enum_options=[(o, _ENUM_COLORS.get(o, "none")) for o in options],
                created_by=sm,
            )
            self.field_gids[name] = cf.gid
        for skill in SKILLS:
            tag = store.add_tag(ws.gid, skill, color=_TAG_COLORS[skill], created_at=genesis)
            self.tag_gids[skill] = tag.gid

        backlog = self._project(
            "backlog",
            ws.gid,
            team.gid,
            BACKLOG_NAME,
            BACKLOG_SECTIONS,
            genesis,
            notes="Everything the Mobile team might build, ranked by the product owner.",
        )
        sprint_gids = []
        for record in plan.sprints:
            w = record.window
            created = datetime.combine(w.start - timedelta(days=3), time(15, 0), tzinfo=UTC)
            sprint_gids.append(
                self._project(
                    f"sprint:{w.index}",
                    ws.gid,
                    team.gid,
                    w.name,
                    SPRINT_SECTIONS,
                    created,
                    start_on=w.start,
                    due_on=w.end,
                    notes=f"Two-week sprint {w.start:%b %d} - {w.end:%b %d}.",
                )
            )
        process = self._project(
            "process",
            ws.gid,
            team.gid,
            PROCESS_NAME,
            ("To Do", "In Progress", "Done"),
            genesis + timedelta(days=30),
            with_fields=False,
            notes="Action items from sprint retrospectives.",
        )

        self._write_tasks(ws.gid)
        self._write_sprint_status_updates()
        self._write_process_actions(ws.gid)
        portfolio = store.add_portfolio(
            ws.gid,
            PORTFOLIO_NAME,
            owner=sm,
            members=people,
            color="dark-green",
            created_at=genesis,
            items=[backlog, *sprint_gids],
        )
        # Created after everything else so adding it left every earlier gid of a seed unchanged.
        name, subtype, precision, description = HEALTH_FIELD_SPEC
        health = store.add_custom_field(
            ws.gid, name, subtype, precision=precision, description=description, created_by=sm
        )
        store.add_field_setting(portfolio.gid, health.gid, is_important=True)
        self.field_gids[name] = health.gid

        token = _token(plan.seed, BOT_NAME)
        store.add_token(token, bot.gid)
        user_tokens = {}
        for person in plan.people:
            user_tokens[self._user(person.key)] = _token(plan.seed, person.key)
            store.add_token(user_tokens[self._user(person.key)], self._user(person.key))
        return GeneratedWorkspace(
            store=store,
            token=token,
            workspace_gid=ws.gid,
            team_gid=team.gid,
            backlog_project_gid=backlog,
            sprint_project_gids=sprint_gids,
            process_project_gid=process,
            portfolio_gid=portfolio.gid,
            scrum_master_gid=sm,
            anchor=plan.anchor,
            bot_gid=bot.gid,
            user_tokens=user_tokens,
            field_gids=dict(self.field_gids),
            plan=plan,
        )

    def _project(
        self,
        key: str,
        ws: str,
        team: str,
        name: str,
        sections: tuple[str, ...],
        created: datetime,
        *,
        notes: str,
        start_on: date | None = None,
        due_on: date | None = None,
        with_fields: bool = True,
    ) -> str:
        sm = self._user(self.plan.scrum_master.key)
        members = [self._user(p.key) for p in self.plan.people]
        project = self.store.add_project(
            ws,
            name,
            team=team,
            owner=sm,
            notes=notes,
            created_at=created,
            start_on=start_on,
            due_on=due_on,
            members=members,
        )
        self.project_gids[key] = project.gid
        self.sections[key] = {
            s: self.store.add_section(project.gid, s, created_at=created).gid for s in sections
        }
        if with_fields:
            for name_, _, _, _, _ in FIELD_SPECS:
                self.store.add_field_setting(
                    project.gid, self.field_gids[name_], is_important=name_ in _IMPORTANT_FIELDS
                )
        return project.gid

    # ---- tasks and their history -------------------------------------------------------------
    def _write_tasks(self, ws: str) -> None:
        plan, store = self.plan, self.store
        for it in plan.items:
            memberships = [(self.project_gids["backlog"], self.sections["backlog"][it.backlog_section])]
            for s in it.sprints:
                key = f"sprint:{s}"
                memberships.append((self.project_gids[key], self.sections[key][it.sprint_sections[s]]))
            assignee = self._user(it.assignee) if it.assignee else None
            followers = list(dict.fromkeys(g for g in (self._user(it.created_by), assignee) if g))
            last_sprint = plan.sprints[it.sprints[-1]].window if it.sprints else None
            modified = max([it.created_at, *(e.at for e in it.events)])
            task = store.add_task(
                ws,
                it.title,
                notes=it.notes,
                created_at=it.created_at,
                created_by=self._user(it.created_by),
                modified_at=modified,
                assignee=assignee,
                assigned_by=self._user(plan.scrum_master.key) if assignee else None,
                completed=it.completed,
                completed_at=it.completed_at,
                completed_by=self._user(it.completed_by) if it.completed_by else None,
                due_on=last_sprint.end if last_sprint else None,
                memberships=memberships,
                tags=[self.tag_gids[it.skill]],
                followers=followers,
                custom_fields=self._field_values(it),
                dependencies=[self.task_gids[d] for d in it.dependencies],
            )
            self.task_gids[it.idx] = task.gid
        self._rank_open_sections()
        for it in plan.items:
            for event in it.events:
                self._write_event(it, event)

    def _field_values(self, it: PlanItem) -> dict[str, object]:
        values: dict[str, object] = {
            self.field_gids["Priority"]: it.priority,
            self.field_gids["Business Value"]: it.business_value,
            self.field_gids["Effort"]: it.effort,
            self.field_gids["Status"]: it.status,
        }
        if it.points is not None:
            values[self.field_gids["Story Points"]] = it.points
        if it.sprints:
            values[self.field_gids["Sprint"]] = self.plan.sprints[it.sprints[-1]].window.name
        return values

    def _rank_open_sections(self) -> None:
        """Order the not-yet-planned backlog sections as a product owner would: priority, then value."""
        by_gid = {gid: self.plan.items[idx] for idx, gid in self.task_gids.items()}
        for name in ("Icebox", "Backlog", "Ready"):
            section = self.store.sections[self.sections["backlog"][name]]
            section.tasks.sort(
                key=lambda g: (PRIORITIES.index(by_gid[g].priority), -by_gid[g].business_value, by_gid[g].idx)
            )

    def _project_name(self, key: str) -> str:
        return self.store.projects[self.project_gids[key]].name

    def _write_event(self, it: PlanItem, event: PlanEvent) -> None:
        store, task = self.store, self.task_gids[it.idx]
        actor = self._user(event.actor)
        if event.kind == "comment":
            store.add_story(task, text=event.text, created_at=event.at, created_by=actor)
            return
        text, subtype, fields = self._system_story(event)
        # Asana prefixes system story text with the actor's name, as the sandbox's own stories do.
        store.add_story(
            task,
            text=f"{self.plan.person(event.actor).name} {text}",
            created_at=event.at,
            created_by=actor,
            type="system",
            resource_subtype=subtype,
            fields=fields,
        )

    def _system_story(self, event: PlanEvent) -> tuple[str, str, dict[str, object]]:
        if event.kind == "added_to_project":
            assert event.project is not None
            return (
                f"added to {self._project_name(event.project)}",
                "added_to_project",
                {"project": self.project_gids[event.project]},
            )
        if event.kind == "section_changed":
            assert event.project is not None and event.old is not None and event.new is not None
            sections = self.sections[event.project]
            where = self._project_name(event.project)
            return (
                f'moved this task from "{event.old}" to "{event.new}" in {where}',
                "section_changed",
                {
                    "old_section": sections[event.old],
                    "new_section": sections[event.new],
                    "project": self.project_gids[event.project],
                },
            )
        if event.kind == "assigned":
            assert event.new is not None
            return (
                f"assigned to {self.plan.person(event.new).name}",
                "assigned",
                {"assignee": self._user(event.new)},
            )
        if event.kind == "status_changed":
            cf = self.field_gids["Status"]
            old = self.store.enum_option_gid(cf, event.old) if event.old else None
            new = self.store.enum_option_gid(cf, event.new) if event.new else None
            return (
                f'changed Status to "{event.new}"',
                "enum_custom_field_changed",
                {"custom_field": cf, "old_enum_value": old, "new_enum_value": new},
            )
        if event.kind == "sprint_changed":
            return (
                f'changed Sprint to "{event.new}"',
                "text_custom_field_changed",
                {
                    "custom_field": self.field_gids["Sprint"],
                    "old_text_value": event.old,
                    "new_text_value": event.new,
                },
            )
        if event.kind == "marked_complete":
            return ("marked this task complete", "marked_complete", {})
        raise ValueError(f"unknown plan event kind {event.kind!r}")

    # ---- project-level records ---------------------------------------------------------------
    def _write_sprint_status_updates(self) -> None:
        sm = self._user(self.plan.scrum_master.key)
        for record in self.plan.sprints:
            points = {it.idx: it.points or 0 for it in self.plan.items}
            committed = sum(points[i] for i in record.committed)
            done = sum(points[i] for i in record.completed)
            ratio = done / committed if committed else 1.0
            status = "on_track" if ratio >= 0.85 else "at_risk" if ratio >= 0.7 else "off_track"
            carried = len(record.carried_over)
            plural = "s" if carried != 1 else ""
            text = (
                f"{record.window.name} closed: {done} of {committed} committed points done "
                f"({len(record.completed)} tasks); {carried} task{plural} carried over."
            )
            closing = datetime.combine(record.window.end, time(16, 30), tzinfo=UTC)
            self.store.add_status_update(
                self.project_gids[f"sprint:{record.window.index}"],
                text=text,
                status_type=status,
                title=f"{record.window.name} review",
                author=sm,
                created_at=closing,
            )

    def _write_process_actions(self, ws: str) -> None:
        process = self.project_gids["process"]
        sm = self._user(self.plan.scrum_master.key)
        for action in self.plan.process_actions:
            section = "Done" if action.completed_at else "To Do"
            task = self.store.add_task(
                ws,
                action.title,
                notes=action.notes,
                created_at=action.created_at,
                created_by=sm,
                modified_at=action.completed_at or action.created_at,
                assignee=self._user(action.assignee),
                assigned_by=sm,
                completed=action.completed_at is not None,
                completed_at=action.completed_at,
                completed_by=self._user(action.assignee) if action.completed_at else None,
                memberships=[(process, self.sections["process"][section])],
                followers=[sm, self._user(action.assignee)],
            )
            if action.completed_at:
                assignee = self.plan.person(action.assignee).name
                self.store.add_story(
                    task.gid,
                    text=f"{assignee} marked this task complete",
                    created_at=action.completed_at,
                    created_by=self._user(action.assignee),
                    type="system",
                    resource_subtype="marked_complete",
                )


def generate_workspace(
    seed: int = 7, *, anchor: date | None = None, backlog_size: int = 150, past_sprints: int = 6
) -> GeneratedWorkspace:
    """A fresh store holding the synthetic workspace for `seed`; byte-identical for equal arguments."""
    anchor = anchor or DEFAULT_ANCHOR
    plan = build_plan(seed, anchor, backlog_size=backlog_size, past_sprints=past_sprints)
    store = Store()
    # Anything the store stamps itself (none of our calls should need it) stays anchored too.
    planning = datetime.combine(anchor, time(8, 0), tzinfo=UTC)
    store.set_clock(lambda: planning)
    generated = _Writer(store, plan).write()
    store.set_clock(None)
    store.meta["default_token"] = generated.token
    store.meta["generator"] = {
        "seed": seed,
        "anchor": anchor.isoformat(),
        "backlog_size": backlog_size,
        "past_sprints": past_sprints,
    }
    return generated


def format_summary(ws: GeneratedWorkspace) -> str:
    """One paragraph for CLIs: what was generated and how to authenticate."""
    store = ws.store
    open_items = sum(1 for g in store.project_tasks(ws.backlog_project_gid) if not store.tasks[g].completed)
    return (
        f"{WORKSPACE_NAME} ({ws.workspace_gid}): {len(store.users) - 1} people + bot {BOT_NAME!r}, "
        f"{len(ws.sprint_project_gids)} past sprints, {open_items} open backlog items, "
        f"{len(store.stories)} stories; anchor {ws.anchor.isoformat()} "
        f"(planning at {asana_time(datetime.combine(ws.anchor, time(9, 0), tzinfo=UTC))}). "
        f"Bot token: {ws.token}"
    )
