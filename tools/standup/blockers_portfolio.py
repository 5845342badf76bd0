"""The Blockers portfolio: every team's open blockers in one place for program managers (issue 21).

Asana portfolios hold projects (and portfolios), never tasks. So the shape is one portfolio (name
configured, default "Blockers") → one project per team ("Blockers — Mobile"; a project without a
team gets its own) → one task per open blocker: named for what is blocked and since when,
assigned to the blocked task's owner, its notes linking the blocked task and what blocks it. A
blocker that clears completes its task rather than deleting it, so the history stays.

The stand-up and the dependency manager both call `keep_blockers_portfolio` with the tasks they
evaluated: the desired state (blocked now) is compared with the current one read from Asana, and
the difference is the smallest list of typed actions — nothing when nothing changed. Every one of
them goes through policy → approval → idempotent apply → audit like any other write, so the
portfolio, a team's project and each blocker task are created only once approved, and a second run
finds them by name and key instead of proposing them again.

Only durable signals count (the Blocked status, and waiting on unfinished work as the stand-up
judges it), never staleness or "I'm stuck" comments: those depend on the day and on which stories
a run read, so two agents, or two days, would disagree and the portfolio would flicker.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal, Protocol

from pydantic import BaseModel

from agents.proposal import Action, ActionKind, Proposal
from tools.asana.models import Portfolio, Project, Task
from tools.standup.blockers import Blocker, find_blockers
from tools.standup.models import TaskState

# Durable kinds only (module docstring); staleness is switched off with a window no task reaches.
DURABLE_KINDS = frozenset({"blocked_status", "dependency"})
_NEVER_STALE = 100_000
_KEY = re.compile(r"⟨sp-blocker:(\d+)⟩")
_SINCE = re.compile(r"^Blocked since: (\d{4}-\d{2}-\d{2})$", re.MULTILINE)
_NAME_CHARS = 200


class BlockersReader(Protocol):
    """The reads the comparison makes (the typed Asana client, or its read-only view, fits)."""

    def portfolios(self, workspace_gid: str, owner_gid: str = "me") -> list[Portfolio]: ...

    def portfolio_items(self, portfolio_gid: str) -> list[Project]: ...

    def projects(self, workspace_gid: str, archived: bool | None = False) -> list[Project]: ...

    def project_tasks(self, project_gid: str, view: Any = ..., completed_since: Any = None) -> list[Task]: ...


@dataclass(frozen=True)
class ProjectTasks:
    """A project and every task of it a run evaluated (open and completed, as the stand-up reads
    them): only these tasks' blockers are opened or cleared by that run."""

    project: Project
    tasks: Sequence[TaskState]


def blocker_key(task_gid: str) -> str:
    """The key a blocker task's notes carry: it ties the task to the blocked task, for every run."""
    return f"⟨sp-blocker:{task_gid}⟩"


def durable_blockers(
    tasks: Sequence[TaskState], today: date, *, committed: bool = True
) -> dict[str, Blocker]:
    """Blocked tasks by gid, by the stand-up's own rule restricted to its durable signals.

    `committed`: the tasks are a sprint's (time-boxed project), so not-started work waiting on
    blocked or outside work is held up. In a backlog nobody has committed to not-started work yet:
    there only the Blocked status, or started work waiting, counts."""
    found = find_blockers(tasks, [], today, stale_days=_NEVER_STALE)
    started = {t.gid for t in tasks if t.started}
    return {
        b.task_gid: b
        for b in found
        if set(b.kinds) & DURABLE_KINDS
        and (committed or "blocked_status" in b.kinds or b.task_gid in started)
    }


def is_clear(task: TaskState) -> bool:
    """Nothing durable holds the task up any more: done, or neither Blocked nor waiting on any
    unfinished work. Opening follows the rule above, clearing only this: a task that one reading
    counts as blocked and another does not (a task in a sprint and the backlog at once) is never
    cleared by one agent and reopened by the other."""
    if task.completed:
        return True
    return not task.blocked_status and not any(done is False for done in task.dependencies.values())


def is_time_boxed(project: Project) -> bool:
    """A sprint-like project: both dates set, in order."""
    return bool(project.start_on and project.due_on and project.due_on >= project.start_on)


def _link(gid: str, url: str | None = None) -> str:
    # Asana resolves /0/0/<gid> to the task wherever it lives.
    return url or f"https://app.asana.com/0/0/{gid}"


class BlockerRow(BaseModel):
    """One blocker in the proposal's evidence: open (kept), new (to create) or cleared (to complete)."""

    state: Literal["open", "new", "cleared"]
    team: str
    blocked_task: str
    name: str
    owner: str | None = None
    since: date | None = None
    age_days: int | None = None
    reasons: list[str] = []


class BlockersPlan(BaseModel):
    portfolio: str
    portfolio_gid: str | None
    actions: list[Action]
    rows: list[BlockerRow]
    reads: int

    def evidence(self) -> dict[str, Any]:
        return {
            "portfolio": self.portfolio,
            "portfolio_gid": self.portfolio_gid,
            "open": sum(r.state != "cleared" for r in self.rows),
            "new": sum(r.state == "new" for r in self.rows),
            "cleared": sum(r.state == "cleared" for r in self.rows),
            "rows": [r.model_dump(mode="json") for r in self.rows],
            "reads": self.reads,
        }

    def summary_lines(self) -> list[str]:
        if not self.rows:
            return []
        ev = self.evidence()
        lines = [
            f"**{self.portfolio} portfolio**: {ev['open']} open blocker(s); {ev['new']} new, "
            f"{ev['cleared']} cleared (created and completed once approved)."
        ]
        for r in self.rows:
            age = f", {r.age_days} day(s)" if r.age_days is not None else ""
            since = f" since {r.since.isoformat()}{age}" if r.since else ""
            lines.append(
                f"- [{r.state}] {r.team}: {r.name} (owner {r.owner or 'unassigned'}; blocked{since})"
                + (f": {'; '.join(r.reasons)}" if r.reasons else "")
            )
        return lines


@dataclass
class _Team:
    key: str
    name: str
    team_gid: str | None
    tasks: dict[str, TaskState] = field(default_factory=dict)
    source: dict[str, Project] = field(default_factory=dict)
    blocked: dict[str, Blocker] = field(default_factory=dict)


def _teams(groups: Sequence[ProjectTasks], today: date) -> list[_Team]:
    teams: dict[str, _Team] = {}
    for group in groups:
        team = group.project.team
        key = team.gid if team is not None else f"project:{group.project.gid}"
        name = (team.name if team is not None else None) or group.project.name or group.project.gid
        t = teams.setdefault(key, _Team(key, name, team.gid if team is not None else None))
        for task in group.tasks:
            t.tasks.setdefault(task.gid, task)
            t.source.setdefault(task.gid, group.project)
        # The rule runs per project, as the stand-up runs it: "waiting on work outside this
        # project" means the same thing whichever agent asks.
        committed = is_time_boxed(group.project)
        for gid, blocker in durable_blockers(group.tasks, today, committed=committed).items():
            t.blocked.setdefault(gid, blocker)
    return list(teams.values())


def _since_of(task: Task) -> date | None:
    found = _SINCE.search(task.notes or "")
    if found:
        return date.fromisoformat(found.group(1))
    return task.created_at.date() if task.created_at else None


class _Current:
    """What is in Asana now, read lazily (a run with nothing blocked and no portfolio reads once)."""

    def __init__(self, reader: BlockersReader, workspace_gid: str, name: str) -> None:
        self.reader = reader
        self.workspace_gid = workspace_gid
        self.reads = 1
        self.portfolio_gid = next((p.gid for p in reader.portfolios(workspace_gid) if p.name == name), None)
        self.items: list[Project] = []
        if self.portfolio_gid is not None:
            self.items = reader.portfolio_items(self.portfolio_gid)
            self.reads += 1
        self._workspace: list[Project] | None = None

    def project(self, name: str, team_gid: str | None, *, anywhere: bool) -> tuple[Project | None, bool]:
        """The team's blockers project and whether it is in the portfolio: among the portfolio's
        items, else (`anywhere`: when there is something to add) among the workspace's projects."""

        def fits(p: Project) -> bool:
            same_team = team_gid is None or (p.team is not None and p.team.gid == team_gid)
            return p.name == name and same_team and not p.archived

        in_portfolio = next((p for p in self.items if fits(p)), None)
        if in_portfolio is not None or not anywhere:
            return in_portfolio, in_portfolio is not None
        if self._workspace is None:
            self._workspace = self.reader.projects(self.workspace_gid)
            self.reads += 1
        return next((p for p in self._workspace if fits(p)), None), False

    def open_blocker_tasks(self, project_gid: str) -> dict[str, Task]:
        self.reads += 1
        out: dict[str, Task] = {}
        for task in self.reader.project_tasks(project_gid, completed_since="now"):
            found = _KEY.search(task.notes or "")
            if found and not task.completed:
                out.setdefault(found.group(1), task)
        return out


def blockers_project_name(portfolio: str, team: str) -> str:
    return f"{portfolio} — {team}"[:255]


def _task_name(task: TaskState, since: date) -> str:
    return f"{task.name[:_NAME_CHARS]} — blocked since {since.isoformat()}"


def _notes(task: TaskState, source: Project, blocker: Blocker, since: date) -> str:
    waits = [g for g, done in task.dependencies.items() if done is False]
    lines = [
        f"{task.name} is blocked (project {source.name or source.gid}).",
        "",
        f"Blocked task: {_link(task.gid, task.url)}",
        f"Owner: {task.assignee_name or 'unassigned'}",
        f"Blocked since: {since.isoformat()}",
        f"Why: {'; '.join(blocker.reasons)}",
    ]
    if waits:
        lines.append("Waiting on:")
        lines += [f"- {task.dependency_names.get(g, g)}: {_link(g)}" for g in waits[:10]]
    lines += [
        "",
        "Kept by sprintpilot's stand-up and dependency manager: completed when the blocker clears.",
        blocker_key(task.gid),
    ]
    return "\n".join(lines)


def plan_blockers_portfolio(
    reader: BlockersReader,
    *,
    workspace_gid: str,
    portfolio: str,
    groups: Sequence[ProjectTasks],
    today: date,
) -> BlockersPlan:
    """The smallest list of actions that makes the portfolio show exactly the evaluated tasks'
    open blockers (tasks of other projects are left as they are)."""
    current = _Current(reader, workspace_gid, portfolio)
    actions: list[Action] = []
    rows: list[BlockerRow] = []
    portfolio_ref: str | None = current.portfolio_gid

    def need_portfolio() -> str:
        nonlocal portfolio_ref
        if portfolio_ref is None:
            actions.append(
                Action(
                    kind=ActionKind.CREATE_PORTFOLIO,
                    params={
                        "name": portfolio,
                        "workspace_gid": workspace_gid,
                        "privacy_setting": "public_to_domain",
                    },
                    ref="blockers-portfolio",
                    reason=f"the {portfolio} portfolio: every team's open blockers in one place",
                )
            )
            portfolio_ref = "ref:blockers-portfolio"
        return portfolio_ref

    for index, team in enumerate(_teams(groups, today)):
        project_name = blockers_project_name(portfolio, team.name)
        if not team.blocked and current.portfolio_gid is None:
            continue  # nothing blocked and nothing kept yet: no read, no action
        # Nothing blocked: only blockers the portfolio shows can need clearing.
        project, in_portfolio = current.project(project_name, team.team_gid, anywhere=bool(team.blocked))
        if project is None and not team.blocked:
            continue
        open_tasks = current.open_blocker_tasks(project.gid) if project is not None else {}
        new = [g for g in team.blocked if g not in open_tasks]
        cleared = [g for g in open_tasks if g in team.tasks and is_clear(team.tasks[g])]
        for gid, blocker_task in open_tasks.items():
            if gid in team.tasks and gid not in cleared:  # kept open (this run read the task)
                since = _since_of(blocker_task)
                state = team.tasks[gid]
                blocker = team.blocked.get(gid)
                rows.append(
                    BlockerRow(
                        state="open",
                        team=team.name,
                        blocked_task=gid,
                        name=state.name,
                        owner=state.assignee_name,
                        since=since,
                        age_days=(today - since).days if since else None,
                        reasons=blocker.reasons if blocker else ["waits on unfinished work"],
                    )
                )
        if not new and not cleared and (in_portfolio or not open_tasks):
            continue
        target: str | None = project.gid if project is not None else None
        needs_item = not in_portfolio and bool(new or open_tasks)
        portfolio_gid = need_portfolio() if needs_item else None  # the portfolio before its item
        if new and target is None:
            ref = f"blockers-project-{index}"
            actions.append(
                Action(
                    kind=ActionKind.CREATE_PROJECT,
                    params={
                        "name": project_name,
                        "workspace_gid": workspace_gid,
                        "team_gid": team.team_gid,
                        "notes": f"Open blockers of {team.name}, one task each, kept by sprintpilot; "
                        f"part of the {portfolio} portfolio.",
                        "unique_name": True,
                    },
                    ref=ref,
                    reason=f"{team.name}'s blockers project in the {portfolio} portfolio",
                )
            )
            target = f"ref:{ref}"
        if target is not None and portfolio_gid is not None:
            actions.append(
                Action(
                    kind=ActionKind.ADD_TO_PORTFOLIO,
                    target=target,
                    params={"portfolio": portfolio_gid},
                    reason=f"{project_name} into the {portfolio} portfolio",
                )
            )
        for gid in new:
            task, blocker = team.tasks[gid], team.blocked[gid]
            assert target is not None
            actions.append(
                Action(
                    kind=ActionKind.CREATE_TASK,
                    params={
                        "name": _task_name(task, today),
                        "projects": [target],
                        "notes": _notes(task, team.source[gid], blocker, today),
                        "assignee": task.assignee_gid,
                        "unique_key": blocker_key(gid),
                    },
                    reason=f"{task.name}: blocked ({'; '.join(blocker.reasons)})",
                )
            )
            rows.append(
                BlockerRow(
                    state="new",
                    team=team.name,
                    blocked_task=gid,
                    name=task.name,
                    owner=task.assignee_name,
                    since=today,
                    age_days=0,
                    reasons=blocker.reasons,
                )
            )
        for gid in cleared:
            blocker_task = open_tasks[gid]
            since = _since_of(blocker_task)
            actions.append(
                Action(
                    kind=ActionKind.UPDATE_TASK,
                    target=blocker_task.gid,
                    params={"completed": True},
                    before={"completed": False},
                    after={"completed": True},
                    reason=f"{team.tasks[gid].name}: no longer blocked"
                    + (f" (blocked since {since.isoformat()})" if since else ""),
                )
            )
            rows.append(
                BlockerRow(
                    state="cleared",
                    team=team.name,
                    blocked_task=gid,
                    name=team.tasks[gid].name,
                    owner=team.tasks[gid].assignee_name,
                    since=since,
                    age_days=(today - since).days if since else None,
                )
            )
    return BlockersPlan(
        portfolio=portfolio,
        portfolio_gid=current.portfolio_gid,
        actions=actions,
        rows=rows,
        reads=current.reads,
    )


def keep_blockers_portfolio(
    proposal: Proposal,
    reader: BlockersReader,
    *,
    portfolio: str,
    groups: Sequence[ProjectTasks],
    today: date,
) -> Proposal:
    """`proposal` with the Blockers portfolio's actions appended, its rows in the evidence and a
    short section in the summary (unchanged when nothing is blocked and nothing is kept)."""
    plan = plan_blockers_portfolio(
        reader, workspace_gid=proposal.scope.workspace_gid, portfolio=portfolio, groups=groups, today=today
    )
    if not plan.rows and not plan.actions:
        return proposal
    summary = proposal.summary_markdown.rstrip() + "\n\n" + "\n".join(plan.summary_lines())
    # The title is what an approver sees first (inbox, Asana task): it names these changes too.
    title = proposal.title
    if plan.actions:
        title = f"{title}; {portfolio} portfolio: {len(plan.actions)} change(s)"
    return proposal.model_copy(
        update={
            "title": title,
            "actions": [*proposal.actions, *plan.actions],
            "evidence": {**proposal.evidence, "blockers_portfolio": plan.evidence()},
            "summary_markdown": summary,
        }
    )
