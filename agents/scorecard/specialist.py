"""The monthly scorecard as a specialist: score the portfolio's predictions, post it there.

Reads sprintpilot's proposal history (the app database) and Asana, computes the live scorecard
(tools/scorecard) and proposes one status update on the portfolio (auto class, as the health
agent's; the policy may gate it). Once a month: the status update's facts are (portfolio,
month), so a second run in the same month proposes nothing, and its evidence still carries the
fresh numbers `/metrics` reads (service/metrics.ScorecardCollector).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from agents.health.inputs import find_portfolio
from agents.proposal import Action, ActionKind, Proposal, Scope
from agents.scorecard.inputs import MAX_PROPOSALS
from agents.scorecard.live import DEFAULT_DAYS, history_of, live_scorecard
from graphs.registry import Specialist, Target
from tools.scorecard.report import markdown

if TYPE_CHECKING:
    from graphs.context import RunContext

SCORECARD_NAME = "scorecard"
APPLIED = frozenset({"applied", "partially_applied"})


class ScorecardArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    portfolio: str = Field(default="Mobile Portfolio", description="portfolio gid or name")
    workspace: str | None = None
    days: int = Field(default=DEFAULT_DAYS, ge=7, le=730, description="predictions of the last N days")


def scorecard_subject(portfolio_gid: str, month: str) -> str:
    return f"scorecard:{portfolio_gid}:{month}"


def posted_this_month(history: Any, subject: str) -> bool:
    """Whether this month's scorecard already reached the portfolio (a run that posted it)."""
    for r in history.list_proposals(limit=MAX_PROPOSALS):
        p = r.proposal
        if p.agent == SCORECARD_NAME and p.subject == subject and str(r.status) in APPLIED and p.actions:
            return True
    return False


def run_scorecard(raw_args: dict[str, Any], ctx: RunContext) -> Proposal:
    args = ScorecardArgs.model_validate(raw_args)
    workspace = ctx.resolve_workspace(args.workspace)
    history = history_of(ctx.repo)
    portfolio_gid, portfolio_name = find_portfolio(ctx.asana, workspace, args.portfolio)
    projects = frozenset(p.gid for p in ctx.asana.portfolio_items(portfolio_gid))
    now = ctx.now()
    month = now.strftime("%Y-%m")
    card = live_scorecard(
        ctx.asana,
        history,
        workspace,
        now,
        projects=projects,
        days=args.days,
        scope=f"{portfolio_name}'s projects",
        feedback=getattr(ctx, "feedback", None),
    )
    title = f"sprintpilot scorecard {month}: were its predictions right?"
    text = (
        markdown(card, f"{portfolio_name}: {title}")
        + "\n\n_Numbers computed by code from sprintpilot's own proposals and Asana (no model wrote them)._"
    )
    subject = scorecard_subject(portfolio_gid, month)
    evidence = {
        "portfolio_gid": portfolio_gid,
        "portfolio_name": portfolio_name,
        "month": month,
        "days": args.days,
        "scorecard": card.model_dump(mode="json"),
        "rows": [r.model_dump(mode="json") for r in card.rows()],
    }
    done = posted_this_month(history, subject)
    actions = (
        []
        if done
        else [
            Action(
                kind=ActionKind.POST_STATUS_UPDATE,
                target=portfolio_gid,
                params={"title": title, "text": text, "status_type": "on_track", "parent_type": "portfolio"},
                # One scorecard per portfolio and month, whatever its numbers are by then.
                facts={"scorecard": portfolio_gid, "month": month},
                reason="the monthly accuracy scorecard of sprintpilot's predictions",
            )
        ]
    )
    return Proposal(
        agent=SCORECARD_NAME,
        scope=Scope(workspace_gid=workspace, project_gids=sorted(projects)),
        title=f"Scorecard {month} for {portfolio_name}" + (" (already posted this month)" if done else ""),
        subject=subject,
        summary_markdown=text,
        evidence=evidence,
        actions=actions,
    )


def scorecard_specialist() -> Specialist:
    return Specialist(
        name=SCORECARD_NAME,
        description="Live accuracy of sprintpilot's own predictions per agent (estimates, flags, forecast "
        "calibration, nudges, approvals), posted monthly to a portfolio.",
        run=run_scorecard,
        args_model=ScorecardArgs,
        verbs=("scorecard",),
        expects=Target("portfolio", "portfolio", help="accuracy scorecard"),
        project_kind="portfolio",
    )
