"""What a person may see in Asana, mirrored for runs started on their behalf.

A chat, API, console or MCP request carries an Asana identity (`Person`); its run gets a `Viewer`
holding the gids of the projects that person can see, and every read a specialist or a scope
check makes goes through `VisibleReads`, which answers an invisible project or task exactly as a
missing one (404 "Unknown object", or "no project named …" with close names drawn only from
visible projects). Scope checks intersect the allowed projects with the visible ones, so nothing
is proposed, let alone written, where the person could not look.

The rule follows Asana's project privacy (asana_oas.yaml `ProjectBase.privacy_setting`):
`public_to_workspace` → every workspace member; `private_to_team` → the team's members and the
project's; `private` → the project's members (the owner is always one).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict

from tools.asana.errors import NotFound
from tools.asana.models import Goal, GoalRelationship, Project, Task
from tools.asana.reads import pick_project

# Asana's own words for both "no such object" and "not yours to see".
UNKNOWN_OBJECT = (
    "Unknown object: The object you are looking for does not exist or you do not have access to it."
)
_PARENT_DEPTH = 3


class Person(BaseModel):
    """An Asana user acting through one of sprintpilot's surfaces."""

    model_config = ConfigDict(frozen=True)

    gid: str
    name: str | None = None
    email: str | None = None

    @property
    def label(self) -> str:
        """How decisions and audit rows name the person: the email, else the gid."""
        return self.email or self.gid

    def known_as(self, ref: str) -> bool:
        wanted = ref.strip().casefold()
        return wanted == self.gid or (bool(self.email) and wanted == (self.email or "").casefold())


def sees_project(project: Project, person_gid: str, team_members: Callable[[str], frozenset[str]]) -> bool:
    members = {m.gid for m in project.members} | ({project.owner.gid} if project.owner else set())
    if person_gid in members:
        return True
    privacy = project.privacy_setting or "public_to_workspace"
    if privacy == "public_to_workspace":
        return True
    if privacy == "private_to_team" and project.team is not None:
        return person_gid in team_members(project.team.gid)
    return False


def visible_projects(
    projects: Iterable[Project], person_gid: str, team_members: Callable[[str], frozenset[str]]
) -> frozenset[str]:
    return frozenset(p.gid for p in projects if sees_project(p, person_gid, team_members))


def sees_goal(goal: Goal, person_gid: str) -> bool:
    """Asana's goal privacy (asana_oas.yaml GoalResponse.privacy_setting): `public_to_workspace`
    → every workspace member; `members_only` → the goal's members (followers) and its owner."""
    if (goal.privacy_setting or "public_to_workspace") != "members_only":
        return True
    owner = goal.owner.gid if goal.owner is not None else None
    return person_gid == owner or person_gid in {f.gid for f in goal.followers}


@dataclass(frozen=True)
class Viewer:
    """The person a run acts for, and the projects (in the run's workspaces) they can see.

    `projects` is read once per run; `recheck` answers for a project outside it (one made since,
    e.g. the sprint project a plan just created), remembered for the run.
    """

    person: Person
    projects: frozenset[str]
    recheck: Callable[[str], bool] | None = None
    _later: dict[str, bool] = field(default_factory=dict, compare=False, repr=False)

    def sees(self, project_gid: str) -> bool:
        if project_gid in self.projects:
            return True
        if self.recheck is None:
            return False
        if project_gid not in self._later:
            self._later[project_gid] = self.recheck(project_gid)
        return self._later[project_gid]


def _missing(path: str) -> NotFound:
    return NotFound(404, UNKNOWN_OBJECT, "GET", path)


def _project_scoped(name: str) -> Any:
    """A VisibleReads method that reads `name` of a project the viewer must see."""

    def read(self: VisibleReads, project_gid: str, *args: Any, **kwargs: Any) -> Any:
        self._need_project(project_gid)
        return getattr(self._reads, name)(project_gid, *args, **kwargs)

    read.__name__ = name
    return read


def _task_scoped(name: str) -> Any:
    """A VisibleReads method that reads `name` of a task the viewer must see."""

    def read(self: VisibleReads, task_gid: str, *args: Any, **kwargs: Any) -> Any:
        self.task(task_gid)
        return getattr(self._reads, name)(task_gid, *args, **kwargs)

    read.__name__ = name
    return read


class VisibleReads:
    """A read view limited to what `viewer` may see; everything else passes through unchanged."""

    def __init__(self, reads: Any, viewer: Viewer) -> None:
        self._reads = reads
        self.viewer = viewer

    def __getattr__(self, name: str) -> Any:
        return getattr(self._reads, name)

    def __repr__(self) -> str:
        return f"VisibleReads({self._reads!r}, person={self.viewer.person.gid})"

    # --- projects -----------------------------------------------------------------------------

    def _need_project(self, gid: str) -> None:
        if not self.viewer.sees(gid):
            raise _missing(f"/projects/{gid}")

    def projects(self, workspace_gid: str, *args: Any, **kwargs: Any) -> list[Project]:
        return [p for p in self._reads.projects(workspace_gid, *args, **kwargs) if self.viewer.sees(p.gid)]

    def find_project(self, workspace_gid: str, name_or_gid: str) -> Project:
        wanted = name_or_gid.strip()
        if wanted.isdigit():
            return self.project(wanted)
        return pick_project(self.projects(workspace_gid, archived=None), wanted, workspace_gid)

    def project(self, gid: str) -> Project:
        self._need_project(gid)
        return self._reads.project(gid)  # type: ignore[no-any-return]

    project_with_fields = _project_scoped("project_with_fields")
    sections = _project_scoped("sections")
    project_tasks = _project_scoped("project_tasks")
    custom_field_settings = _project_scoped("custom_field_settings")
    field_map = _project_scoped("field_map")
    task_counts = _project_scoped("task_counts")

    def portfolio_items(self, portfolio_gid: str) -> list[Project]:
        return [p for p in self._reads.portfolio_items(portfolio_gid) if self.viewer.sees(p.gid)]

    def portfolio_items_with_fields(self, portfolio_gid: str, *args: Any, **kwargs: Any) -> list[Project]:
        items = self._reads.portfolio_items_with_fields(portfolio_gid, *args, **kwargs)
        return [p for p in items if self.viewer.sees(p.gid)]

    # --- goals --------------------------------------------------------------------------------

    def _sees_goal(self, goal: Goal) -> bool:
        return sees_goal(goal, self.viewer.person.gid)

    def goals(self, workspace_gid: str) -> list[Goal]:
        return [g for g in self._reads.goals(workspace_gid) if self._sees_goal(g)]

    def goals_supported_by(self, resource_gid: str, resource_type: str = "project") -> list[Goal]:
        if resource_type == "project":
            self._need_project(resource_gid)
        return [g for g in self._reads.goals_supported_by(resource_gid, resource_type) if self._sees_goal(g)]

    def goal(self, gid: str) -> Goal:
        goal: Goal = self._reads.goal(gid)
        if not self._sees_goal(goal):
            raise _missing(f"/goals/{gid}")
        return goal

    def goal_relationships(self, goal_gid: str) -> list[GoalRelationship]:
        """What supports a visible goal; supporting projects the person cannot see are left out."""
        self.goal(goal_gid)
        rels: list[GoalRelationship] = self._reads.goal_relationships(goal_gid)
        return [
            r
            for r in rels
            if r.supporting_resource is None
            or (r.supporting_resource.resource_type or "project") != "project"
            or self.viewer.sees(r.supporting_resource.gid)
        ]

    # --- tasks --------------------------------------------------------------------------------

    def task(self, gid: str) -> Task:
        task: Task = self._reads.task(gid)
        current = task
        for _ in range(_PARENT_DEPTH + 1):
            member_of = {m.project.gid for m in current.memberships if m.project}
            member_of |= {p.gid for p in current.projects}
            if any(self.viewer.sees(p) for p in member_of):
                return task
            if member_of or current.parent is None:
                break
            current = self._reads.task(current.parent.gid)
        raise _missing(f"/tasks/{gid}")

    subtasks = _task_scoped("subtasks")
    stories = _task_scoped("stories")
    # `stories_many` passes through: its gids come from `project_tasks` of a visible project.

    def status_updates(self, parent_gid: str) -> Any:
        self._need_parent(parent_gid, "status_updates")
        return self._reads.status_updates(parent_gid)

    def attachments(self, parent_gid: str) -> Any:
        self._need_parent(parent_gid, "attachments")
        return self._reads.attachments(parent_gid)

    def _need_parent(self, parent_gid: str, what: str) -> None:
        """A visible project passes; a task must be visible through its projects; anything else
        (a portfolio: its items are filtered where they are listed) passes."""
        if parent_gid in self.viewer.projects:
            return
        try:
            self._reads.task(parent_gid)
        except NotFound:
            try:
                self._reads.project(parent_gid)
            except NotFound:
                return
            if not self.viewer.sees(parent_gid):
                raise _missing(f"/{what}?parent={parent_gid}") from None
            return
        self.task(parent_gid)
