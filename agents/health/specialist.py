"""Portfolio health as a registered specialist: read → score components → narrate → status updates.

Writes (auto): one status update on the team's latest sprint project with the score, the
contribution of each component and the trend (a status update on the portfolio itself would be
denied by the scope checker, which only knows projects). A project-level "Health" custom field
is not written: set_custom_field targets tasks only
(see the report), so the per-project score travels in the status update.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from agents.forecast.schemas import ForecastNarrative
from agents.health.inputs import read_portfolio
from agents.proposal import Action, ActionKind, Proposal, Scope
from graphs.registry import Specialist
from tools.health.score import DEFAULT_WEIGHTS, HealthScore, HealthTrend, health_trend

if TYPE_CHECKING:
    from graphs.context import RunContext

HEALTH_NAME = "health"
PROMPT_ID = "health_summary"
_LABELS = {
    "completion": "Completion",
    "carry_over": "Carry-over",
    "blockers": "Blockers",
    "forecast_risk": "Forecast risk",
    "sentiment": "Retro sentiment",
}


class HealthArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    portfolio: str = Field(default="Mobile Portfolio", description="portfolio gid or name")
    workspace: str | None = None
    weights: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    window: int = Field(default=3, ge=1, le=12)


def components_table(h: HealthScore) -> list[str]:
    rows = ["| Component | Sub-score | Weight | Contribution | Detail |", "|---|---:|---:|---:|---|"]
    for c in h.components:
        value = "no data" if c.value is None else f"{c.value:g}"
        rows.append(f"| {_LABELS[c.name]} | {value} | {c.weight:.0%} | {c.contribution:g} | {c.detail} |")
    rows.append(f"| **Health** | | | **{h.score:g}** | {h.band} |")
    return rows


def health_markdown(title: str, trend: HealthTrend, narrative: Any, engine: str) -> str:
    hist = ", ".join(f"{n} {s:g}" for n, s in trend.history)
    return "\n".join(
        [
            f"## {title}: health {trend.current.score:g}/100 ({trend.current.band})",
            "",
            narrative.summary,
            "",
            *components_table(trend.current),
            "",
            f"Trend over the last sprints ({trend.slope_per_sprint:+g} per sprint): {hist}.",
            "",
            f"_Scores computed by code from the sprint projects; words by the {engine} engine._",
        ]
    )


def run_health(raw_args: dict[str, Any], ctx: RunContext) -> Proposal:
    from tools.llm.engine import LanguageEngine

    args = HealthArgs.model_validate(raw_args)
    workspace = args.workspace or (
        sorted(ctx.allowed_workspace_gids)[0] if ctx.allowed_workspace_gids else ctx.asana.workspaces()[0].gid  # type: ignore[attr-defined]
    )
    inputs = read_portfolio(ctx.asana, workspace, args.portfolio)
    if not inputs.sprints:
        raise ValueError(f"portfolio {inputs.portfolio_name!r} holds no sprint project (named 'Sprint N')")
    facts = [f for _, f in inputs.sprints]
    trend = health_trend(facts, weights=args.weights, window=args.window)
    h = trend.current
    variables = {
        "portfolio_name": inputs.portfolio_name,
        "score": h.score,
        "band": h.band,
        "slope": trend.slope_per_sprint,
        "components": [
            {"name": _LABELS[c.name], "value": c.value, "contribution": c.contribution, "detail": c.detail}
            for c in h.components
        ],
        "history": [{"sprint": n, "score": s} for n, s in trend.history],
    }
    engine = ctx.language or LanguageEngine()
    narrative, label = engine.write(PROMPT_ID, variables, ForecastNarrative)
    latest = inputs.sprints[-1][0]
    text = health_markdown(f"{inputs.portfolio_name} / {latest.name or latest.gid}", trend, narrative, label)
    title = f"Health {h.score:g}/100 ({h.band})"
    # The portfolio's own status update carries the report; the team's latest sprint project gets
    # the same score (Asana shows a project's health through its status updates).
    actions = [
        Action(
            kind=ActionKind.POST_STATUS_UPDATE,
            target=inputs.portfolio_gid,
            params={"title": title, "text": text, "status_type": h.status_type, "parent_type": "portfolio"},
            reason="portfolio health: score, each component's contribution and the trend",
        ),
        Action(
            kind=ActionKind.POST_STATUS_UPDATE,
            target=latest.gid,
            params={"title": title, "text": text, "status_type": h.status_type},
            reason="the health score on the team's current sprint project",
        ),
    ]
    return Proposal(
        agent=HEALTH_NAME,
        scope=Scope(workspace_gid=workspace, project_gids=[latest.gid]),
        title=f"Portfolio health for {inputs.portfolio_name}",
        summary_markdown=text,
        evidence={
            "portfolio_gid": inputs.portfolio_gid,
            "health": h.model_dump(),
            "trend": trend.model_dump(),
            "sprints": [f.model_dump() for f in facts],
        },
        actions=actions,
        model=label,
        prompts=[engine.prompt_ref(PROMPT_ID)],
    )


def health_specialist() -> Specialist:
    return Specialist(
        name=HEALTH_NAME,
        description="Portfolio health per team/project: completion, carry-over, blockers, forecast risk, "
        "retro sentiment, with trend.",
        run=run_health,
        keywords=("health", "portfolio", "status", "risk"),
    )
