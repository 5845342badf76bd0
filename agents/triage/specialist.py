"""Triage as a registered specialist: args → read → estimate/criteria/risk/priority → words → Proposal.

Every action is a set_custom_field on an AI-suggestion field or a comment, so the default policy
classes them all `auto`: the run applies them in the publish step (ledgered and audited) and
finishes without an approval interrupt. Targets are the gids from the args (or the project's own
task list in `--project` mode); task text never selects a target.

With `intake` (a request from a form, started by service/events/routes_intake.py) the run is
agents/triage/intake.py: the same assessment against the configured backlogs, plus near-duplicates
as `link_duplicate` actions (approval class) and a comment asking for what is missing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agents.proposal import Proposal, Scope
from agents.triage.args import TriageArgs
from agents.triage.assess import TaskAssessment, assess_task, note_variables
from agents.triage.index import ESTIMATOR_CACHE, corrected_history
from agents.triage.inputs import TriageInputs, read_triage_inputs, story_points, workspace_for
from agents.triage.proposal import make_proposal
from graphs.registry import Specialist, Target
from tools.llm.writers.triage import PROMPT_ID, TriageNote

if TYPE_CHECKING:
    from graphs.context import RunContext
    from tools.llm.engine import LanguageEngine

TRIAGE_NAME = "triage"


def all_triaged(inputs: TriageInputs) -> Proposal:
    """Project mode with every matching task refined already: an answer, not a failure."""
    name = inputs.project.name or inputs.project.gid
    return Proposal(
        agent="triage",
        scope=Scope(workspace_gid=inputs.workspace_gid, project_gids=[inputs.project.gid]),
        title=f"Nothing new to refine in {name}",
        summary_markdown=(
            f"Every matching open task of {name} already carries an AI estimate; nothing was written. "
            "Name a task with --task to refine it again."
        ),
        evidence={"tasks": [], "all_triaged": True},
    )


def run_triage(raw_args: dict[str, Any], ctx: RunContext) -> Proposal:
    from tools.llm.engine import LanguageEngine

    args = TriageArgs.model_validate(raw_args)
    workspace = workspace_for(args, ctx)
    if args.intake:
        from agents.triage.intake import run_intake

        return run_intake(args, workspace, ctx)
    inputs = read_triage_inputs(ctx.asana, workspace, args)
    if not inputs.targets and args.project and not (args.task or args.tasks):
        return all_triaged(inputs)
    if not inputs.targets:
        raise ValueError("nothing to refine: no matching open tasks")
    history = [(t, p) for t in inputs.history if (p := story_points(t))]
    history, corrected = corrected_history(history, ctx.feedback, ctx.asana, inputs, ctx.now())
    key = (str(getattr(ctx.asana, "base_url", "")), inputs.project.gid)
    estimator = ESTIMATOR_CACHE.index_for(key, history) if history else None
    engine: LanguageEngine = ctx.language or LanguageEngine()
    now = ctx.now()
    rows: list[tuple[TaskAssessment, TriageNote, str]] = []
    for task in inputs.targets:
        assessment = assess_task(task, inputs, estimator, now)
        note, label = engine.write(PROMPT_ID, note_variables(assessment), TriageNote)
        rows.append((assessment, note, label))  # each comment says which engine wrote it
    proposal = make_proposal(inputs, rows, [engine.prompt_ref(PROMPT_ID)], len(history))
    if corrected:  # stated in the evidence: which tasks' points people corrected
        proposal.evidence["corrected_points"] = corrected
    return proposal


def triage_specialist() -> Specialist:
    return Specialist(
        name=TRIAGE_NAME,
        description="Refine backlog tasks: story-point estimate with similar past tasks, acceptance "
        "criteria, AI Priority Score and risk flags.",
        run=run_triage,
        args_model=TriageArgs,
        verbs=("triage",),
        expects=Target("task", "task", help="estimate and refine"),
        alternatives=(Target("project", "project", keyword="project"),),
        project_kind="backlog",
    )
