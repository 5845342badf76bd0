"""Portfolio health as a registered specialist: read → score components → narrate → status updates.

Writes (auto): a status update on the portfolio and on the team's latest sprint project with the
score, the contribution of each component and the trend, and each project's own value of the
portfolio's Health field (set_project_custom_field; the field name is the policy's
`health_field`, default "Health"). Without such a field the run says so in its title and
summary and writes the status updates only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from agents.forecast.schemas import ForecastNarrative
from agents.health.inputs import read_portfolio
from agents.health.project_field import field_actions, plan_field
from agents.proposal import Action, ActionKind, Proposal, Scope
from graphs.registry import Specialist, Target
from tools.health.goals import goal_progress
from tools.health.score import DEFAULT_WEIGHTS, HealthScore, HealthTrend, health_trend
from tools.llm.labels import written_by

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
    # The portfolio field written per project; None = the policy's health field (auto class).
    field: str | None = Field(default=None, min_length=1)


def components_table(h: HealthScore) -> list[str]:
    rows = ["| Component | Sub-score | Weight | Contribution | Detail |", "|---|---:|---:|---:|---|"]
    for c in h.components:
        value = "no data" if c.value is None else f"{c.value:g}"
        rows.append(f"| {_LABELS[c.name]} | {value} | {c.weight:.0%} | {c.contribution:g} | {c.detail} |")
    rows.append(f"| **Health** | | | **{h.score:g}** | {h.band} |")
    return rows


def health_markdown(
    title: str,
    trend: HealthTrend,
    narrative: Any,
    engine: str,
    sentiment: str = "lexicon",
    warning: str | None = None,
) -> str:
    """`sentiment`: the engine that scored the comments; `warning`: why a configured model was not used."""
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
            f"_Scores computed by code from the sprint projects (comment sentiment: {sentiment} engine); "
            f"written by {written_by(engine)}._",
            *([f"_Note: {warning}._"] if warning else []),
        ]
    )


def run_health(raw_args: dict[str, Any], ctx: RunContext) -> Proposal:
    from tools.llm.engine import LanguageEngine

    args = HealthArgs.model_validate(raw_args)
    workspace = ctx.resolve_workspace(args.workspace)
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
    field_name = args.field or ctx.policy.health_field
    cf = next((f for f in inputs.fields if (f.name or "").casefold() == field_name.casefold()), None)
    read_sprints = [p.gid for p, _ in inputs.sprints]
    field_plan = plan_field(
        field_name,
        cf,
        [f.name or f.gid for f in inputs.fields],
        inputs.projects,
        inputs.sprint_gids,
        read_sprints,
        trend,
    )
    # Progress of the Asana goals the portfolio and its projects support (a block only when any).
    goals = goal_progress(
        ctx.asana,
        [p.gid for p in inputs.projects],
        portfolio_gids=[inputs.portfolio_gid],
    )
    text = health_markdown(
        f"{inputs.portfolio_name} / {latest.name or latest.gid}",
        trend,
        narrative,
        label,
        inputs.sentiment_engine,
        inputs.sentiment_warning,
    )
    if goals.goals:
        text += "\n\n" + "\n".join(goals.markdown())
    text += f"\n\n{field_plan.note()}"
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
        *field_actions(field_plan, inputs.projects, inputs.portfolio_gid, read_sprints),
    ]
    # A missing field shows in the run's own output (the report's heading is the title).
    missing = f" ({field_plan.problem.split(';')[0]})" if field_plan.problem else ""
    return Proposal(
        agent=HEALTH_NAME,
        scope=Scope(workspace_gid=workspace, project_gids=[latest.gid]),
        title=f"Portfolio health for {inputs.portfolio_name}{missing}",
        subject=f"health:{inputs.portfolio_gid}",
        summary_markdown=text,
        evidence={
            "portfolio_gid": inputs.portfolio_gid,
            "health": h.model_dump(),
            "trend": trend.model_dump(),
            "sprints": [f.model_dump() for f in facts],
            "health_field": field_plan.model_dump(),
            "goals": goals.evidence(),
            "sentiment_engine": {"name": inputs.sentiment_engine, "warning": inputs.sentiment_warning},
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
        args_model=HealthArgs,
        verbs=("health",),
        expects=Target("portfolio", "portfolio", help="portfolio health"),
        project_kind="portfolio",
    )
