"""The planner as a registered specialist: args → read → compute → narrate → Proposal."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from agents.planner.inputs import next_sprint_window, read_board, read_planning_inputs
from agents.planner.plan import compute_plan
from agents.planner.proposal import left_out, make_proposal, risks_of
from agents.proposal import Proposal
from graphs.registry import ChatOption, Specialist, Target
from tools.health.goals import find_goal
from tools.planning.phase import is_sprint_name

if TYPE_CHECKING:
    from graphs.context import RunContext

PLANNER_NAME = "planner"
PROMPT_ID = "planner_summary"


class PlannerArgs(BaseModel):
    """What a caller (CLI, chat, event, eval) may ask the planner for."""

    model_config = ConfigDict(extra="forbid")

    project: str = Field(default="Product Backlog", description="backlog project gid or name")
    workspace: str | None = Field(default=None, description="workspace gid (default: the first allowed)")
    capacity: float | None = Field(
        default=None, ge=0, allow_inf_nan=False, description="points; overrides historical velocity"
    )
    availability: dict[str, float] = Field(default_factory=dict, description="person gid → points")
    sprint_name: str | None = Field(default=None, description='the new sprint\'s name, "Sprint <N>"')
    formula: str | None = None
    include_blocked: bool = False
    # An Asana goal (gid or name) the new sprint supports: the plan proposes linking them.
    goal: str | None = Field(default=None, min_length=1, max_length=255, description="Asana goal gid or name")

    @field_validator("formula")
    @classmethod
    def _a_formula(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("the formula is empty (leave --formula out for the default)")
        return value

    @field_validator("availability")
    @classmethod
    def _no_negative_points(cls, value: dict[str, float]) -> dict[str, float]:
        # Refused like a negative --capacity (it was clamped to 0 without a word).
        bad = [who for who, points in value.items() if not points >= 0 or points == float("inf")]
        if bad:
            raise ValueError(f"each person's points must be a finite number ≥ 0, got {value[bad[0]]:g}")
        return value

    @field_validator("sprint_name")
    @classmethod
    def _a_sprint_name(cls, value: str | None) -> str | None:
        # It becomes an Asana project name, may come from a chat model, and every agent finds
        # sprints by this pattern (tools/planning/phase.py): anything else is refused.
        if value is not None and not is_sprint_name(value):
            raise ValueError(f'sprint name must look like "Sprint 25", not {value[:40]!r}')
        return " ".join(value.split()) if value is not None else None


def run_planner(raw_args: dict[str, Any], ctx: RunContext) -> Proposal:
    args = PlannerArgs.model_validate(raw_args)
    workspace = ctx.resolve_workspace(args.workspace)
    # Resolved first, among the goals the person can see: an unknown goal stops the run early.
    goal = find_goal(ctx.asana, workspace, args.goal) if args.goal else None
    inputs = read_planning_inputs(
        ctx.asana,  # type: ignore[arg-type]
        workspace,
        args.project,
        availability=args.availability,
        today=ctx.now().date(),
    )
    today = ctx.now().date()
    plan = compute_plan(
        inputs,
        capacity_override=args.capacity,
        formula=args.formula,
        exclude_blocked=not args.include_blocked,
        today=today,
    )
    sprint_name = args.sprint_name or f"Sprint {inputs.next_sprint_number}"
    window = next_sprint_window(inputs.sprints, today)
    names = {p.gid: p.name for p in inputs.people}
    by_gid = {it.gid: it for it in inputs.items}
    assigned = plan.assignment.assignments if plan.assignment else {}
    variables = {
        "sprint_name": sprint_name,
        "team_name": inputs.backlog.team.name
        if inputs.backlog.team and inputs.backlog.team.name
        else "the team",
        "capacity_points": round(plan.capacity.capacity, 1),
        "velocity_p50": plan.velocity.median if plan.velocity.median is not None else 0,
        "selected_points": plan.selection.total_points,
        "selected_tasks": [
            {
                "name": by_gid[g].name,
                "points": by_gid[g].points,
                "assignee": names.get(assigned.get(g, ""), ""),
                "score": round(plan.scores[g].score, 2),
            }
            for g in plan.chosen
        ],
        "left_out": [{"name": n, "reason": w} for n, w in left_out(plan, inputs)[:8]],
        "risks": risks_of(plan, inputs),
    }
    narrative, engine, prompts = _narrate(ctx, variables)
    board = read_board(ctx.asana, inputs, ctx.approver_gid)
    return make_proposal(
        plan, inputs, sprint_name, window, narrative, engine, names, prompts, board, goal=goal, today=today
    )


def _narrate(ctx: RunContext, variables: dict[str, Any]) -> tuple[Any, str, list[Any]]:
    from tools.llm.engine import LanguageEngine
    from tools.llm.schemas import PlanNarrative

    engine = ctx.language or LanguageEngine()
    narrative, label = engine.write(PROMPT_ID, variables, PlanNarrative)
    return narrative, label, [engine.prompt_ref(PROMPT_ID)]


def planner_specialist() -> Specialist:
    return Specialist(
        name=PLANNER_NAME,
        description="Plan the next sprint from a backlog: score, fit velocity, respect dependencies, assign.",
        run=run_planner,
        args_model=PlannerArgs,
        verbs=("plan",),
        expects=Target("project", "project", help="sprint plan from a backlog"),
        options=(
            ChatOption("capacity", "capacity", "number"),
            ChatOption("sprint", "sprint_name", "text"),
        ),
        project_kind="backlog",
    )
