"""The stand-up as a registered specialist: args → read → compute → narrate → Proposal."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

from agents.proposal import Proposal
from agents.standup.compute import Standup, compute_standup
from agents.standup.inputs import StandupInputs, member_gids, read_standup_inputs
from agents.standup.proposal import already_done_proposal, make_proposal
from graphs.registry import Specialist, Target
from tools.feedback.thresholds import AT_RISK_RULE, from_feedback, with_threshold_evidence
from tools.llm.labels import with_footer
from tools.standup.blockers import DEFAULT_STALE_DAYS
from tools.standup.blockers_portfolio import ProjectTasks, keep_blockers_portfolio
from tools.standup.coherence import headline_agrees
from tools.standup.nudges import Nudge, nudge_message, plan_nudges
from tools.standup.risk import DEFAULT_DUE_SOON_DAYS

if TYPE_CHECKING:
    from graphs.context import RunContext

STANDUP_NAME = "standup"
SUMMARY_PROMPT = "standup_summary"
NUDGE_PROMPT = "standup_nudge"


class StandupArgs(BaseModel):
    """What a caller (CLI, schedule, event, chat, eval) may ask the stand-up for."""

    model_config = ConfigDict(extra="forbid")

    project: str = Field(min_length=1, description="sprint project gid or name")
    workspace: str | None = Field(default=None, description="workspace gid (needed to look a name up)")
    timezone: str = Field(default="UTC", description="IANA zone of the team: decides 'today'")
    stale_days: int = Field(default=DEFAULT_STALE_DAYS, ge=1, le=30)
    due_soon_days: int = Field(default=DEFAULT_DUE_SOON_DAYS, ge=0, le=30)
    nudge: bool = True
    max_nudges: int = Field(default=20, ge=0, le=100, description="at most this many people nudged")
    chart: bool = True
    capacity: dict[str, float] = Field(
        default_factory=dict,
        description="person gid → points the plan gave them for the sprint (default: as the plan's "
        "status update states it, else their commitment at the sprint start)",
    )

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v!r}") from None
        return v


def _workspace(args: StandupArgs, ctx: RunContext) -> str | None:
    # A gid needs no workspace to be read; a name is looked up in the run's workspace.
    if args.workspace or not args.project.strip().isdigit():
        return ctx.resolve_workspace(args.workspace)
    return None


def run_standup(raw_args: dict[str, Any], ctx: RunContext) -> Proposal:
    from tools.llm.engine import LanguageEngine

    args = StandupArgs.model_validate(raw_args)
    tz = ZoneInfo(args.timezone)
    inputs = read_standup_inputs(ctx.asana, _workspace(args, ctx), args.project, ctx.now(), tz)  # type: ignore[arg-type]
    if inputs.today_standup is not None:
        return already_done_proposal(inputs)
    horizon = from_feedback(
        ctx.feedback, args.due_soon_days, AT_RISK_RULE, task_gids=[t.gid for t in inputs.tasks], now=ctx.now()
    )
    st = compute_standup(
        inputs,
        stale_days=args.stale_days,
        due_soon_days=int(horizon.value) if horizon else args.due_soon_days,
        own_comment_tag=ctx.policy.comment_tag,
        capacity=args.capacity,
    )
    engine = ctx.language or LanguageEngine()
    by_gid = {t.gid: t for t in inputs.tasks}
    bd = st.burndown
    variables = {
        "project_name": inputs.project.name or inputs.project.gid,
        "date": inputs.now.date().isoformat(),
        "since": inputs.since.isoformat(timespec="minutes"),
        "change_count": len(st.changes),
        "done_count": sum(len(p.done) for p in st.people),
        "remaining_points": bd.remaining_now,
        "scope_points": bd.scope_now,
        "ideal_points": round(bd.ideal_now, 1),
        "days_left": st.pace.days_left,
        "status_type": st.status_type,
        "anomalies": bd.anomalies,
        "people": [
            {
                "name": p.name,
                "done": [by_gid[g].name for g in p.done],
                "in_progress": [by_gid[g].name for g in p.in_progress],
                "next": [by_gid[g].name for g in p.next],
            }
            for p in st.people
        ],
        "blockers": [{"task": by_gid[b.task_gid].name, "reasons": b.reasons} for b in st.blockers],
        "at_risk": [{"task": by_gid[r.task_gid].name, "reasons": r.reasons} for r in st.at_risk],
    }
    narrative, label = engine.write(SUMMARY_PROMPT, variables, _schemas().StandupNarrative)
    if not headline_agrees(narrative.headline, st.status_type):
        # The status is computed; a headline that claims another one is replaced by the template's.
        from tools.llm.offline import write_offline

        fixed = write_offline(SUMMARY_PROMPT, variables, _schemas().StandupNarrative)
        narrative = narrative.model_copy(update={"headline": getattr(fixed, "headline", "")})
    prompts = [engine.prompt_ref(SUMMARY_PROMPT)]
    nudges: list[tuple[Nudge, str]] = []
    if args.nudge and (st.at_risk or st.blockers) and args.max_nudges:
        members = member_gids(ctx.asana, inputs.project, inputs.workspace_gid)  # type: ignore[arg-type]
        for nudge in plan_nudges(
            inputs.tasks, st.at_risk, st.blockers, members, inputs.project.gid, limit=args.max_nudges
        ):
            text, nudge_label = engine.write(
                NUDGE_PROMPT,
                {
                    "owner_name": nudge.person_name,
                    "days_left": st.pace.days_left,
                    "items": [
                        {
                            "task": i.name,
                            "due_on": i.due_on.isoformat() if i.due_on else "no due date",
                            "reasons": i.reasons,
                        }
                        for i in nudge.items
                    ],
                },
                _schemas().NudgeText,
            )
            nudges.append((nudge, with_footer(nudge_message(text.text, nudge), nudge_label)))
        if nudges:
            prompts.append(engine.prompt_ref(NUDGE_PROMPT))
    chart = _chart(st, inputs) if args.chart and inputs.tasks else None
    proposal = make_proposal(st, inputs, narrative, label, nudges, chart, prompts)
    proposal = with_threshold_evidence(proposal, horizon)
    portfolio = ctx.policy_for(inputs.workspace_gid).blockers_portfolio
    if portfolio:
        # The sprint's blockers into the Blockers portfolio (created/changed only once approved).
        proposal = keep_blockers_portfolio(
            proposal,
            ctx.asana,  # type: ignore[arg-type]
            portfolio=portfolio,
            groups=[ProjectTasks(inputs.project, inputs.tasks)],
            today=inputs.now.date(),
        )
    return proposal


def _chart(st: Standup, inputs: StandupInputs) -> bytes:
    from tools.standup.chart import render_png

    return render_png(
        st.burndown, f"{inputs.project.name or 'Sprint'} burndown, {inputs.now.date().isoformat()}"
    )


def _schemas() -> Any:
    from agents.standup import schemas

    return schemas


def standup_specialist() -> Specialist:
    return Specialist(
        name=STANDUP_NAME,
        description="Daily stand-up of a sprint: progress per person, blockers, at-risk tasks, burndown.",
        run=run_standup,
        args_model=StandupArgs,
        verbs=("standup", "stand-up"),
        expects=Target("project", "project", help="daily stand-up of a sprint"),
        project_kind="sprint",
    )
