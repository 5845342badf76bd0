"""The sprint review as a registered specialist: the review document attached to the sprint project
and a status update linking it.

Writes (both gated by the `attach_document` kind's class: needs approval by default, see
graphs/kinds/attachments.py):
- `attach_document`: "<Sprint> sprint review <digest>.html" on the sprint project, a self-contained
  page (tools/retro/review_doc.py); an older review of the same sprint is replaced;
- `post_status_update` on the sprint project: the narrative and numbers, ending with a link to the
  document (its permanent URL, added when the update is written).

Idempotent: the file name carries a digest of everything the document states, so a re-run on an
unchanged sprint finds its document attached and proposes nothing; both actions also state their
facts (sprint + digest) for the ledger's repeat rule.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from agents.proposal import Action, ActionKind, Proposal, Scope
from agents.retro.review_inputs import ReviewInputs, read_review_inputs
from graphs.kinds.attachments import LINK_SLOT
from graphs.registry import Specialist, Target
from tools.health.goals import goal_progress
from tools.llm.labels import with_footer, written_by
from tools.retro.review_doc import SprintReview, build_review, digest, file_prefix, filename, render_html

if TYPE_CHECKING:
    from graphs.context import RunContext

SPRINT_REVIEW_NAME = "sprint_review"
PROMPT_ID = "sprint_review_summary"


class SprintReviewArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    project: str | None = Field(default=None, description="sprint project gid or name (default: last ended)")
    workspace: str | None = None


class ReviewNarrative(BaseModel):
    summary: str = Field(description="2 to 4 sentences: what was delivered and what slipped")


def narrative_variables(review: SprintReview) -> dict[str, Any]:
    return {
        "sprint_name": review.sprint,
        "goal": review.goal or "",
        "numbers": review.numbers,
        "delivered": [
            {"epic": g.name, "tasks": [t.name for t in g.tasks], "points": g.points} for g in review.delivered
        ],
        "slipped": [{"task": s.task.name, "why": s.reasons[0]} for s in review.slipped],
    }


def status_markdown(review: SprintReview) -> str:
    n = review.numbers
    lines = [
        review.narrative,
        "",
        f"- Delivered: {n['done_items']:g} items, {n['done_points']:g} points in "
        f"{len(review.delivered)} epic{'s' if len(review.delivered) != 1 else ''}.",
        f"- Slipped: {n['slipped_items']:g} items, {n['slipped_points']:g} points.",
        *(f"- Goal: {line}" for line in review.goals),
        "",
        f"The review document (demo notes per task, what slipped and why): {LINK_SLOT}",
    ]
    return with_footer("\n".join(lines), review.engine)


def build_actions(inputs: ReviewInputs, review: SprintReview) -> tuple[list[Action], str]:
    name = filename(review)
    if name in inputs.attachment_names:
        return [], name
    d = digest(review)
    project = inputs.project.gid
    rate = (
        review.numbers["done_points"] / review.numbers["scope_points"]
        if review.numbers["scope_points"]
        else 1.0
    )
    status_type = "on_track" if rate >= 0.8 else "at_risk" if rate >= 0.5 else "off_track"
    facts = {"sprint": project, "digest": d}
    actions = [
        Action(
            kind=ActionKind.ATTACH_DOCUMENT,
            target=project,
            params={
                "filename": name,
                "content": render_html(review, written_by(review.engine)),
                "content_type": "text/html",
                "parent_type": "project",
                "replaces_prefix": file_prefix(review.sprint),
            },
            facts={"sprint_review": "document", **facts},
            reason=f"the {review.sprint} sprint review document",
        ),
        Action(
            kind=ActionKind.POST_STATUS_UPDATE,
            target=project,
            params={
                "title": f"{review.sprint} sprint review",
                "text": status_markdown(review),
                "status_type": status_type,
                "link_attachment": name,
            },
            facts={"sprint_review": "status_update", **facts},
            reason="the sprint review, linking its document",
        ),
    ]
    return actions, name


def run_sprint_review(raw_args: dict[str, Any], ctx: RunContext) -> Proposal:
    from tools.llm.engine import LanguageEngine

    args = SprintReviewArgs.model_validate(raw_args)
    workspace = ctx.resolve_workspace(args.workspace)
    inputs = read_review_inputs(ctx.asana, workspace, args.project, today=ctx.now().date())
    w = inputs.window
    review = build_review(w.name, w.start_on, w.end_on, inputs.tasks, goal=inputs.goal)
    engine = ctx.language or LanguageEngine()
    text, label = engine.write(PROMPT_ID, narrative_variables(review), ReviewNarrative)
    goals = goal_progress(ctx.asana, [inputs.project.gid])
    review = review.model_copy(
        update={
            "narrative": text.summary,
            "engine": label,
            "goals": [g.line().removeprefix("- ") for g in goals.goals],
        }
    )
    actions, name = build_actions(inputs, review)
    summary = (
        status_markdown(review)
        if actions
        else f"The {w.name} sprint review is already attached ({name}); nothing changed."
    )
    return Proposal(
        agent=SPRINT_REVIEW_NAME,
        scope=Scope(workspace_gid=workspace, project_gids=[inputs.project.gid]),
        title=f"Approve the {w.name} sprint review",
        subject=f"sprint-review:{inputs.project.gid}",
        summary_markdown=summary,
        evidence={
            "sprint": w.model_dump(mode="json"),
            "numbers": review.numbers,
            "epics": [{"name": g.name, "items": len(g.tasks), "points": g.points} for g in review.delivered],
            "slipped": [{"task": s.task.name, "reasons": s.reasons} for s in review.slipped],
            "document": name,
            "goals": goals.evidence(),
            "digest": digest(review),
        },
        actions=actions,
        model=label,
        prompts=[engine.prompt_ref(PROMPT_ID)],
    )


def sprint_review_specialist() -> Specialist:
    return Specialist(
        name=SPRINT_REVIEW_NAME,
        description="Sprint review document: delivered work by epic with demo notes, what slipped and why.",
        run=run_sprint_review,
        args_model=SprintReviewArgs,
        verbs=("sprint-review",),
        expects=Target("project", "project", optional=True, help="sprint review document"),
        project_kind="finished_sprint",
    )
