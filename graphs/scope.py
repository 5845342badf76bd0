"""Is a gid inside the run's allowed workspaces/projects? (reads only, cached per run)

The check is done in code against what Asana says about the object, never against anything a
model or task text claims, so an injected gid from another team or workspace is denied before a
human is even asked.
"""

from __future__ import annotations

from graphs.asana_port import AsanaReads
from graphs.visibility import Viewer
from tools.asana.errors import Forbidden, NotFound
from tools.asana.models import Task
from tools.errors import UserError

_PARENT_DEPTH = 3  # subtasks without their own project memberships inherit the parent's scope


class OutOfScope(UserError):
    pass


class ScopeChecker:
    def __init__(
        self,
        asana: AsanaReads,
        workspaces: frozenset[str],
        projects: frozenset[str],
        viewer: Viewer | None = None,
    ) -> None:
        self._asana = asana
        self.workspaces = workspaces
        self.projects = projects
        # The person a run acts for: only projects they can see in Asana are in scope
        # (graphs/visibility.py); None for the service's own runs (events, schedules, the CLI).
        self.viewer = viewer
        self._workspace_projects: set[str] | None = None
        self._tasks: dict[str, Task] = {}
        # Projects of tasks found in an allowed workspace (_whole_workspace): in scope unread.
        self._workspace_members: set[str] = set()
        self._portfolio_items: dict[str, set[str]] = {}

    def workspace(self, gid: str | None) -> None:
        if gid is None or gid not in self.workspaces:
            raise OutOfScope(f"workspace {gid} is not one of the allowed workspaces")

    def _allowed(self, project_gid: str) -> bool:
        if project_gid in self._workspace_members:
            return True
        if project_gid not in self._allowed_projects():
            return False
        return self.viewer is None or self.viewer.sees(project_gid)

    def _allowed_projects(self) -> set[str]:
        if self.projects:
            return set(self.projects)
        if self._workspace_projects is None:
            found: set[str] = set()
            for ws in sorted(self.workspaces):
                found.update(p.gid for p in self._asana.projects(ws))
            self._workspace_projects = found
        return self._workspace_projects

    def _whole_workspace(self, task: Task) -> bool:
        """Without a project list or a person, every project of an allowed workspace is in scope,
        so a task in a project is in scope when its own workspace is allowed: no listing of the
        workspace's projects (a page per 100 projects) for every event a service run handles."""
        if self.projects or self.viewer is not None or task.workspace is None:
            return False
        if task.workspace.gid not in self.workspaces:
            raise OutOfScope(f"task {task.gid} is in workspace {task.workspace.gid}, not an allowed one")
        self._workspace_members.update(m.project.gid for m in task.memberships if m.project)
        self._workspace_members.update(p.gid for p in task.projects)
        return True

    def project(self, gid: str) -> None:
        if not self._allowed(gid):
            raise OutOfScope(f"project {gid} is outside the allowed projects")

    def portfolio(self, gid: str) -> None:
        """A portfolio is in scope when it belongs to an allowed workspace."""
        try:
            found = self._asana.portfolio(gid)
        except (NotFound, Forbidden) as err:
            raise OutOfScope(f"portfolio {gid} cannot be read ({err.status})") from None
        self.workspace(found.workspace.gid if found.workspace else None)

    def portfolio_project(self, portfolio_gid: str, project_gid: str) -> None:
        """The portfolio is in scope and holds the project (its fields only exist on its items)."""
        if portfolio_gid not in self._portfolio_items:
            self.portfolio(portfolio_gid)
            try:
                items = self._asana.portfolio_items(portfolio_gid)
            except (NotFound, Forbidden) as err:
                raise OutOfScope(f"portfolio {portfolio_gid} items cannot be read ({err.status})") from None
            self._portfolio_items[portfolio_gid] = {p.gid for p in items}
        if project_gid not in self._portfolio_items[portfolio_gid]:
            raise OutOfScope(f"project {project_gid} is not in portfolio {portfolio_gid}")

    def _task(self, gid: str) -> Task:
        if gid not in self._tasks:
            try:
                self._tasks[gid] = self._asana.task(gid)
            except (NotFound, Forbidden) as err:
                raise OutOfScope(f"task {gid} cannot be read ({err.status})") from None
        return self._tasks[gid]

    def task(self, gid: str) -> None:
        current = gid
        for _ in range(_PARENT_DEPTH + 1):
            task = self._task(current)
            member_of = {m.project.gid for m in task.memberships if m.project} | {
                p.gid for p in task.projects
            }
            if member_of and self._whole_workspace(task):
                return
            if any(self._allowed(p) for p in member_of):
                return
            if member_of or task.parent is None:
                break
            current = task.parent.gid
        raise OutOfScope(f"task {gid} is not in an allowed project")

    def cached_task(self, gid: str) -> Task | None:
        return self._tasks.get(gid)
