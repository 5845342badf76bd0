"""The dependency manager as a registered specialist: args → read → cascade → narrate → Proposal."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, model_validator

from agents.dependencies.analysis import DependencyAnalysis, Trigger, analyse
from agents.dependencies.delay_model import MIN_EXAMPLES, model_off, score_open_tasks
from agents.dependencies.inputs import read_dependency_inputs
from agents.dependencies.proposal import make_proposal
from agents.dependencies.schemas import CascadeNarrative, DependentAlert
from agents.proposal import Proposal
from graphs.registry import ChatOption, Specialist, Target
from tools.asana.models import Project
from tools.llm.labels import with_footer
from tools.standup.blockers_portfolio import ProjectTasks, keep_blockers_portfolio

if TYPE_CHECKING:
    from graphs.context import RunContext

UTC_ZONE = ZoneInfo("UTC")
# Runs started by an event (service/events/routes_dependencies.py): the worker keeps its copies of
# the projects' task lists current from the inbox, so these read only what changed.
EVENT_TRIGGERS = frozenset({"due_date_changed", "blocked"})
DEPENDENCIES_NAME = "dependencies"
SUMMARY_PROMPT = "dependencies_summary"
ALERT_PROMPT = "dependencies_alert"


class DependencyArgs(BaseModel):
    """What a caller (CLI, event route, chat, eval) may ask the dependency manager for."""

    model_config = ConfigDict(extra="forbid")

    projects: list[str] = Field(default_factory=lambda: ["Product Backlog"], min_length=1, max_length=20)
    workspace: str | None = None
    trigger: Trigger = "scan"
    task: str | None = Field(default=None, pattern=r"^\d+$", description="gid of the slipped task")
    days: int | None = Field(default=None, ge=0, le=250, description="working days the task slips")
    new_due_on: date | None = None
    blocked_slip_days: int = Field(default=3, ge=0, le=60)
    use_history: bool = True
    # The team-trained delay-risk model in scans; min_history = settled tasks needed to train it.
    delay_model: bool = True
    min_history: int = Field(default=MIN_EXAMPLES, ge=10, le=10_000)

    @model_validator(mode="after")
    def _consistent(self) -> DependencyArgs:
        if self.trigger != "scan" and self.task is None:
            raise ValueError(f"trigger {self.trigger!r} needs task")
        if self.trigger == "manual" and self.days is None and self.new_due_on is None:
            raise ValueError("a manual slip needs days or new_due_on")
        return self


def _fmt(d: date | None) -> str:
    return d.isoformat() if d else "none"


def _alerts(analysis: DependencyAnalysis, engine: Any) -> dict[str, str]:
    """One alert per direct dependent of a slipped task (untrusted names go in fenced variables)."""
    by = analysis.cascade.by_gid()
    reasons = {s.gid: s.reason for s in analysis.slips}
    out: dict[str, str] = {}
    for a in analysis.direct_dependents():
        if a.via is None or a.via not in by:
            continue
        pre = by[a.via]
        variables = {
            "task_name": analysis.node(a.gid).name,
            "prerequisite_name": analysis.node(a.via).name,
            "reason": reasons.get(a.via, "slipped"),
            "prerequisite_finish": _fmt(pre.earliest_finish),
            "earliest_start": _fmt(a.earliest_start),
            "earliest_finish": _fmt(a.earliest_finish),
            "due_on": _fmt(a.due_on),
            "slack": "n/a" if a.slack_days is None else a.slack_days,
            "risk_score": analysis.risks[a.gid].score,
        }
        alert, label = engine.write(ALERT_PROMPT, variables, DependentAlert)
        out[a.gid] = with_footer(alert.text, label)  # each alert says which engine wrote it
    return out


def run_dependencies(raw_args: dict[str, Any], ctx: RunContext) -> Proposal:
    from tools.llm.engine import LanguageEngine

    args = DependencyArgs.model_validate(raw_args)
    workspace = ctx.resolve_workspace(args.workspace)
    inputs = read_dependency_inputs(
        ctx.asana,  # type: ignore[arg-type]
        workspace,
        args.projects,
        use_history=args.use_history,
        kept=args.trigger in EVENT_TRIGGERS,
    )
    today = ctx.now().date()
    if args.trigger != "scan":
        model = None  # a reported slip is about the cascade; the model runs in scans
    elif args.delay_model:
        model = score_open_tasks(
            inputs, today, min_examples=args.min_history, feedback=ctx.feedback, now=ctx.now()
        )
    else:
        model = model_off("turned off for this run")
    analysis = analyse(
        inputs,
        trigger=args.trigger,
        task=args.task,
        days=args.days,
        new_due_on=args.new_due_on,
        blocked_slip_days=args.blocked_slip_days,
        today=today,
        delay_model=model,
    )
    engine = ctx.language or LanguageEngine()
    by = analysis.cascade.by_gid()
    late = analysis.late()
    variables = {
        "trigger": args.trigger,
        "slipped": [
            {
                "name": analysis.node(s.gid).name,
                "reason": s.reason,
                "new_finish": _fmt(by[s.gid].earliest_finish),
            }
            for s in analysis.slips[:20]
            if s.gid in by
        ],
        "affected_count": len(analysis.cascade.affected) - len(analysis.cascade.slipped),
        "late_count": len(late),
        "late_tasks": [
            {
                "name": analysis.node(a.gid).name,
                "earliest_finish": _fmt(a.earliest_finish),
                "due_on": _fmt(a.due_on),
                "slack": a.slack_days,
            }
            for a in sorted(late, key=lambda a: (a.slack_days or 0, a.gid))[:15]
        ],
        "cycles": [[analysis.node(g).name for g in c] for c in analysis.cycles[:10]],
        "critical_days": analysis.critical.working_days,
        "critical_path": [analysis.node(g).name for g in analysis.critical.gids[:15]],
        "suggestions": analysis.suggestions,
    }
    narrative, label = engine.write(SUMMARY_PROMPT, variables, CascadeNarrative)
    # A re-run repeats no alert: each states its facts (alert_facts), and the policy drops facts
    # already posted, whatever the wording.
    alerts = _alerts(analysis, engine)
    prompts = [engine.prompt_ref(SUMMARY_PROMPT)] + ([engine.prompt_ref(ALERT_PROMPT)] if alerts else [])
    proposal = make_proposal(analysis, inputs, narrative, alerts, label, prompts)
    portfolio = ctx.policy_for(workspace).blockers_portfolio
    if portfolio:
        proposal = keep_blockers_portfolio(
            proposal,
            ctx.asana,  # type: ignore[arg-type]
            portfolio=portfolio,
            groups=_blocker_groups(ctx, inputs.projects),
            today=today,
        )
    return proposal


def _blocker_groups(ctx: RunContext, projects: list[Project]) -> list[ProjectTasks]:
    """The projects' tasks read as the stand-up reads them (each dependency's completion too), so
    both agents judge a blocker by the same rule on the same facts and never undo each other."""
    from agents.standup.inputs import read_task_states

    return [ProjectTasks(p, read_task_states(ctx.asana, p, UTC_ZONE)) for p in projects]  # type: ignore[arg-type]


def dependencies_specialist() -> Specialist:
    return Specialist(
        name=DEPENDENCIES_NAME,
        description=(
            "Dependency manager: build the task dependency graph, report cycles and the critical path, and "
            "cascade a slipped, blocked or late task through its dependents "
            "(Risk Scores, alerts, due-date shifts)."
        ),
        run=run_dependencies,
        args_model=DependencyArgs,
        verbs=("risk", "deps", "dependencies"),
        expects=Target("projects", "projects", help="dependency scan"),
        alternatives=(
            Target(
                "task", "task", verbs=("risk",), task_projects="projects", help="delay cascade from one task"
            ),
        ),
        options=(ChatOption("days", "days", "integer", verbs=("risk",), sets=(("trigger", "manual"),)),),
        project_kind="any",
    )
