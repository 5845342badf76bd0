"""The live scorecard for a project, a portfolio or everything a run may see (CLI, console, jobs)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agents.health.inputs import find_portfolio
from agents.scorecard.live import DEFAULT_DAYS, history_of, live_scorecard
from tools.errors import UserError
from tools.scorecard.models import Scorecard

if TYPE_CHECKING:
    from graphs.context import RunContext


def scorecard_for(
    ctx: RunContext,
    *,
    project: str | None = None,
    portfolio: str | None = None,
    days: int = DEFAULT_DAYS,
    workspace: str | None = None,
) -> Scorecard:
    """Scored through `ctx.asana`: a person's view sees only the predictions on projects they can
    see (with neither `project` nor `portfolio`, every project of the workspace they see)."""
    if project and portfolio:
        raise UserError("give --project or --portfolio, not both")
    ws = ctx.resolve_workspace(workspace)
    projects: frozenset[str] | None
    if project:
        p = ctx.asana.find_project(ws, project)
        projects, scope = frozenset({p.gid}), p.name or p.gid
    elif portfolio:
        gid, name = find_portfolio(ctx.asana, ws, portfolio)
        projects, scope = frozenset(p.gid for p in ctx.asana.portfolio_items(gid)), f"{name}'s projects"
    elif ctx.viewer is not None:
        projects = frozenset(p.gid for p in ctx.asana.projects(ws))
        scope = "the projects you can see"
    else:
        projects, scope = None, "the workspace"
    return live_scorecard(
        ctx.asana,
        history_of(ctx.repo),
        ws,
        ctx.now(),
        projects=projects,
        days=days,
        scope=scope,
        feedback=getattr(ctx, "feedback", None),
    )


def card_json(card: Scorecard) -> dict[str, Any]:
    return {**card.model_dump(mode="json"), "rows": [r.model_dump(mode="json") for r in card.rows()]}
