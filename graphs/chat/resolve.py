"""Names the user types (projects, tasks) → gids inside the allowed scope, with clear errors."""

from __future__ import annotations

from typing import TYPE_CHECKING

from graphs.scope import OutOfScope
from tools.asana.errors import AsanaError, NotFound
from tools.asana.fields import TaskView
from tools.errors import SprintpilotError, UserError
from tools.names import did_you_mean

if TYPE_CHECKING:
    from graphs.context import RunContext
    from tools.asana.models import Task


QUOTE_CHARS = 80  # what an answer repeats of a name the user typed (a 20 KB name came back whole)


def quoted(ref: str) -> str:
    """`ref` as an answer quotes it: repr, shortened past QUOTE_CHARS."""
    return repr(ref if len(ref) <= QUOTE_CHARS else ref[: QUOTE_CHARS - 1] + "…")


class ChatError(UserError, ValueError):
    """Something the user (or the model) asked for that cannot be done; the message says why."""


class Resolver:
    def __init__(self, ctx: RunContext, *, workspace: str | None = None) -> None:
        self.ctx = ctx
        self._workspace = workspace
        self.scope = ctx.scope_checker()

    @property
    def workspace(self) -> str:
        try:
            return self.ctx.resolve_workspace(self._workspace)
        except SprintpilotError as err:
            raise ChatError(str(err)) from None

    def check_workspace(self) -> None:
        if self._workspace and self.ctx.allowed_workspace_gids:
            try:
                self.scope.workspace(self._workspace)
            except OutOfScope as err:
                raise ChatError(str(err)) from None

    def scoped_projects(self) -> list[tuple[str, str]]:
        """(gid, name) of every project the chat may read."""
        projects = self.ctx.asana.projects(self.workspace)
        allowed = self.ctx.allowed_project_gids
        return [(p.gid, p.name or p.gid) for p in projects if not allowed or p.gid in allowed]

    def project(self, ref: str) -> str:
        ref = ref.strip()
        if not ref:
            raise ChatError("name a project")
        try:
            project = self.ctx.asana.find_project(self.workspace, ref)
        except NotFound as err:
            if ref.isdigit():
                raise ChatError(_asana_message(err) or f"no project {quoted(ref)}") from None
            # Suggest only what this chat may use (the reader's own hint names every project).
            names = [name for _, name in self.scoped_projects()]
            hint = did_you_mean(ref, names)
            raise ChatError(f"no project named {quoted(ref)} in your scope{hint}") from None
        except AsanaError as err:
            raise ChatError(f"project {quoted(ref)}: {_asana_message(err)}") from None
        try:
            self.scope.project(project.gid)
        except OutOfScope:
            raise ChatError(
                f"project {project.name or project.gid!r} is outside the projects this chat may use"
            ) from None
        return str(project.gid)

    def task(self, ref: str) -> str:
        ref = ref.strip()
        if not ref:
            raise ChatError("name a task (gid or name)")
        gid = ref if ref.isdigit() else self._task_by_name(ref).gid
        try:
            self.scope.task(gid)
        except OutOfScope as err:
            raise ChatError(f"task {quoted(ref)} cannot be used here: {err}") from None
        return gid

    def task_projects(self, gid: str) -> list[str]:
        task = self.scope.cached_task(gid) or self.ctx.asana.task(gid)
        allowed = {g for g, _ in self.scoped_projects()}
        found = [m.project.gid for m in task.memberships if m.project] + [p.gid for p in task.projects]
        return [g for g in dict.fromkeys(found) if g in allowed]

    def _task_by_name(self, ref: str) -> Task:
        wanted = ref.casefold()
        tasks: dict[str, Task] = {}
        for gid, _ in self.scoped_projects():
            for task in self.ctx.asana.project_tasks(gid, TaskView.COMPACT):  # type: ignore[call-arg]
                tasks.setdefault(task.gid, task)
        exact = [t for t in tasks.values() if (t.name or "").casefold() == wanted]
        hits = exact or [t for t in tasks.values() if wanted in (t.name or "").casefold()]
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            shown = "; ".join(f"{t.name} ({t.gid})" for t in hits[:5])
            raise ChatError(f"{len(hits)} tasks match {quoted(ref)}: {shown}; use the gid")
        hint = did_you_mean(ref, [t.name or "" for t in tasks.values()])
        raise ChatError(f"no task named {quoted(ref)} in the allowed projects{hint}")


def _asana_message(err: AsanaError) -> str:
    return str(getattr(err, "message", "") or err)
