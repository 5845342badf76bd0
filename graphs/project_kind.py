"""Each specialist accepts one kind of project; the wrong kind is refused before it runs.

`Specialist.project_kind` declares it: a backlog (not a sprint project), the active sprint, a
sprint that has ended, or any project. The check reads the project the request names (one call)
and decides with the one sprint-phase rule (tools/planning/phase.py), so a retro of a sprint that
has not started, a stand-up of the backlog or of a sprint that ended in September, or a plan from
a sprint project ends with one line saying why, and writes nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tools.errors import UserError
from tools.planning.phase import has_ended, is_sprint_name, sprint_phase

if TYPE_CHECKING:
    from graphs.context import RunContext
    from graphs.registry import Specialist


class WrongProjectKind(UserError):
    """The request names a project of a kind this specialist does not work on."""


def check_project_kind(spec: Specialist, args: dict[str, Any], ctx: RunContext) -> None:
    kind = spec.project_kind
    field = spec.expects.field if spec.expects.kind == "project" else None
    ref = args.get(field) if field else None
    if kind in ("any", "portfolio") or not isinstance(ref, str) or not ref.strip():
        return  # nothing to check (an omitted optional project is chosen by the specialist)
    workspace = args.get("workspace") if isinstance(args.get("workspace"), str) else None
    project = ctx.asana.find_project(ctx.resolve_workspace(workspace), ref)
    name = project.name or project.gid
    # A sprint is named "Sprint N" or has a sprint window (recorded sprints carry other names).
    sprint = is_sprint_name(project.name) or (project.start_on is not None and project.due_on is not None)
    today = ctx.now().date()
    if kind == "backlog":
        if sprint:
            raise WrongProjectKind(f"{name} is a sprint project; {spec.name} works on a backlog")
        return
    if not sprint:
        raise WrongProjectKind(f"{name!r} is not a sprint project (named 'Sprint N'); {spec.name} needs one")
    phase = sprint_phase(project, today)
    if kind == "sprint" and phase != "active":
        when = (
            f"it starts on {project.start_on}"
            if phase == "planned"
            else f"it ended on {project.due_on}"
            if project.due_on
            else "it has ended"
        )
        raise WrongProjectKind(
            f"{name} is not the active sprint ({when}); {spec.name} is for a running sprint"
        )
    if kind == "finished_sprint" and not has_ended(project, today):
        raise WrongProjectKind(
            f"{name} has not ended yet (it ends on {project.due_on}); "
            f"{spec.name} is for a sprint that has ended"
        )
