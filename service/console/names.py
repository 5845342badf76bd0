"""Names for the gids one console page shows, each read from Asana at most once per render.

A sprint plan names dozens of tasks; reading each one (`GET /tasks/{gid}`) made the proposal page
cost a request per action. `PageNames` reads the proposal's scope projects once, then takes task
names from one paged listing of a scope project when that is cheaper than reading the tasks one by
one (`task_counts` says how many pages the listing costs), and people from the Directory (cached
for the whole process). Names are read through the service account: callers show them only on a
proposal the person was already allowed to see.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from tools.asana.fields import TaskView
from tools.errors import SprintpilotError

if TYPE_CHECKING:
    from service.runtime import Runtime

PAGE = 100  # Asana's page size: a project listing costs one request per 100 tasks
MAX_SINGLE_READS = 60  # past this, a huge proposal shows gids rather than reading on


class PageNames:
    def __init__(self, rt: Runtime, workspace_gid: str | None = None) -> None:
        self.rt = rt
        self.workspace_gid = workspace_gid
        self._names: dict[str, str | None] = {}
        self._people: dict[str, str] | None = None
        self._single_reads = 0

    def project_names(self, gids: list[str]) -> list[str]:
        """Each project's name (its gid when Asana cannot say)."""
        for gid in gids:
            if gid not in self._names:
                try:
                    self._names[gid] = self.rt.asana.project(gid).name
                except SprintpilotError:
                    self._names[gid] = None
        return [self._names[g] or g for g in gids]

    def prefetch_tasks(self, gids: Iterable[str], projects: list[str]) -> None:
        """Learn the names of tasks `gids` (in `projects`, the proposal's scope) with as few
        requests as possible: a scope project's listing when it costs fewer requests than the
        tasks still unknown, else nothing here (`name` reads them one by one)."""
        wanted = {g for g in gids if g.isdigit() and g not in self._names}
        for project in projects:
            if len(wanted) < 2:
                return
            try:
                count = self.rt.asana.task_counts(project).num_tasks
                if count is None or 1 + -(-count // PAGE) >= len(wanted):
                    continue  # reading the few tasks directly is cheaper
                for task in self.rt.asana.project_tasks(project, TaskView.COMPACT):
                    self._names.setdefault(task.gid, task.name)
            except SprintpilotError:
                continue
            wanted -= self._names.keys()

    def name(self, gid: str) -> str | None:
        """A task's or project's name, read once (a task first: most targets are tasks)."""
        if gid in self._names:
            return self._names[gid]
        if not gid.isdigit() or self._single_reads >= MAX_SINGLE_READS:
            return None
        self._single_reads += 1
        self._names[gid] = None
        for read in (self.rt.asana.task, self.rt.asana.project):
            try:
                self._names[gid] = read(gid).name
                break
            except SprintpilotError:
                continue
        return self._names[gid]

    def person(self, gid: str) -> str | None:
        """A workspace user's name from the Directory (one cached read of the workspace's users)."""
        if self._people is None:
            try:
                ws = self.workspace_gid or self.rt.resolve_workspace()
                people = self.rt.directory.people(ws)
            except SprintpilotError:
                people = []
            self._people = {p.gid: p.name or p.label for p in people}
        return self._people.get(gid)
