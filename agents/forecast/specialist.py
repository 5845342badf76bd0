"""The forecast agent as a registered specialist: args → read → backtest → simulate → narrate → Proposal.

The Proposal goes through the usual policy → gate → apply → audit path; its summary and evidence
name the forecasting method (points or throughput) and the backtest numbers that chose it.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from agents.forecast.compute import compute_forecast
from agents.forecast.proposal import make_proposal
from agents.forecast.schemas import ForecastNarrative
from agents.planner.inputs import read_planning_inputs
from agents.proposal import Proposal
from graphs.registry import Specialist, Target

if TYPE_CHECKING:
    from graphs.context import RunContext

FORECAST_NAME = "forecast"
PROMPT_ID = "forecast_summary"


class ForecastArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    project: str = Field(default="Product Backlog", description="backlog project gid or name")
    workspace: str | None = None
    scope: str | None = Field(
        default=None, description="all | section:X | tag:X | epic:X | a section/tag name"
    )
    by: date | None = Field(default=None, description="how much will be done by this date")
    availability: dict[str, float] = Field(
        default_factory=dict, description="person gid → share of the sprint"
    )
    method: Literal["auto", "points", "throughput"] = Field(
        default="auto",
        description="auto: the method a walk-forward backtest on the team's sprints found most accurate; "
        "points (velocity) or throughput (completed item counts) forces one",
    )
    seed: int = 0


def _iso(d: date | None) -> str:
    return d.isoformat() if d else ""


def run_forecast(raw_args: dict[str, Any], ctx: RunContext) -> Proposal:
    from tools.llm.engine import LanguageEngine

    args = ForecastArgs.model_validate(raw_args)
    workspace = ctx.resolve_workspace(args.workspace)
    inputs = read_planning_inputs(ctx.asana, workspace, args.project, today=ctx.now().date())  # type: ignore[arg-type]
    result = compute_forecast(
        inputs,
        scope=args.scope,
        by=args.by,
        today=ctx.now().date(),
        availability=args.availability,
        seed=args.seed,
        method=args.method,
    )
    n = result.next_sprint
    variables = {
        "project_name": inputs.backlog.name or args.project,
        "history": [h for h in result.history],
        "p50": n.p(50),
        "p85": n.p(85),
        "p95": n.p(95),
        "basis": n.basis,
        "caveat": n.caveat or "",
        "scope_label": result.scope.label,
        "scope_points": result.scope.points,
        "done_p50": _iso(result.done.percentiles.get(50)),
        "done_p85": _iso(result.done.percentiles.get(85)),
        "by": result.by.isoformat() if result.by else "",
        "by_probability": result.by_probability,
        "over_allocated": [p.name for p in result.capacity.over_allocated],
        "method": result.chosen,
    }
    engine = ctx.language or LanguageEngine()
    narrative, label = engine.write(PROMPT_ID, variables, ForecastNarrative)
    return make_proposal(
        result,
        workspace_gid=workspace,
        project_gid=inputs.backlog.gid,
        project_name=inputs.backlog.name or args.project,
        narrative=narrative,
        engine=label,
        prompts=[engine.prompt_ref(PROMPT_ID)],
    )


def forecast_specialist() -> Specialist:
    return Specialist(
        name=FORECAST_NAME,
        description="Forecast velocity (P50/P85/P95), when a scope will be done, how much by a date, and "
        "capacity vs workload per person; by points or by throughput (item counts), whichever a backtest "
        "on the team's own sprints found more accurate.",
        run=run_forecast,
        args_model=ForecastArgs,
        verbs=("forecast",),
        expects=Target("project", "project", help="delivery forecast"),
        project_kind="any",  # a backlog, or a sprint's remaining scope
    )
