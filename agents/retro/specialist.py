"""The retro as a registered specialist: args → read → analyse → narrate → Proposal."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from agents.proposal import Proposal
from agents.retro.analysis import RetroAnalysis, analyse
from agents.retro.inputs import RetroInputs, read_retro_inputs
from agents.retro.proposal import make_proposal
from agents.retro.schemas import RetroNarrative
from graphs.registry import Specialist, Target
from tools.sentiment.engine import engine_choice

if TYPE_CHECKING:
    from graphs.context import RunContext

RETRO_NAME = "retro"
PROMPT_ID = "retro_notes"


class RetroArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    project: str | None = Field(default=None, description="sprint project gid or name (default: last ended)")
    workspace: str | None = None
    history: int = Field(default=3, ge=0, le=10, description="earlier sprints compared for recurring themes")


def narrative_variables(inputs: RetroInputs, a: RetroAnalysis) -> dict[str, Any]:
    c = a.commitment
    by_gid = {i.gid: i for i in inputs.items}
    return {
        "sprint_name": inputs.window.name,
        "numbers": {
            "committed_points": c.committed_points,
            "completed_points": c.completed_points,
            "carry_over_points": c.carry_over_points,
            "added_items": c.added_items,
            "added_points": c.added_points,
            "completion_rate": c.completion_rate_points,
        },
        "mood": a.mood.model_dump(include={"comments", "positive", "neutral", "negative", "trend"}),
        "done_tasks": [{"name": by_gid[g].name, "points": by_gid[g].points} for g in c.completed_gids],
        "carry_over": [{"name": by_gid[g].name, "points": by_gid[g].points} for g in c.carry_over_gids],
        "themes": [t.model_dump(include={"name", "kind", "count", "recurring"}) for t in a.themes],
        "blockers": [{"task": b.name, "days": b.days} for b in a.blockers],
        "negative_quotes": [s.text for s in a.mood.most_negative],
        "positive_quotes": [s.text for s in a.mood.most_positive],
    }


def run_retro(raw_args: dict[str, Any], ctx: RunContext) -> Proposal:
    from tools.llm.engine import LanguageEngine

    args = RetroArgs.model_validate(raw_args)
    workspace = ctx.resolve_workspace(args.workspace)
    reader: Any = ctx.asana
    inputs = read_retro_inputs(reader, workspace, args.project, today=ctx.now().date(), history=args.history)
    # The trained engine when SPRINTPILOT_SENTIMENT_MODEL names one that loads, else the lexicon.
    sentiment = engine_choice()
    result = analyse(inputs, sentiment.engine)
    result.sentiment_warning = sentiment.warning
    engine = ctx.language or LanguageEngine()
    text, label = engine.write(PROMPT_ID, narrative_variables(inputs, result), RetroNarrative)
    return make_proposal(inputs, result, text, label, inputs.people, [engine.prompt_ref(PROMPT_ID)])


def retro_specialist() -> Specialist:
    return Specialist(
        name=RETRO_NAME,
        description="Sprint retrospective: numbers, cycle times, blockers, sentiment, themes, action items.",
        run=run_retro,
        args_model=RetroArgs,
        verbs=("retro",),
        expects=Target("project", "project", optional=True, help="sprint retrospective"),
        project_kind="finished_sprint",
    )
