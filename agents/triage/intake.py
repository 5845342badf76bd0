"""Intake: triage a request that arrived through an Asana form (a new task in an intake project).

Besides what backlog triage gives a task (estimate from similar completed work, acceptance
criteria, priority, risk, all from agents/triage/assess.py), a request is compared with the
configured backlog project(s): their completed, estimated tasks are the estimator's history, and
their open and recently completed items are searched for near-duplicates
(tools/refinement/duplicates.py). A near-duplicate becomes a `link_duplicate` action (link, or
merge: close the request as a duplicate), which needs approval; a request that lacks something
(tools/refinement/completeness.py) gets a comment asking for exactly that, classed like triage's
other comments. Targets are the request (from the event) and the backlog item the similarity
picked among the configured backlogs' tasks; the request's text never names one.

Over time (issue 21):
- **Incomplete requests wait.** While something is missing, the estimate, the AI fields and the
  refinement comment are held back (the ask comment says the request cannot be estimated yet; an
  estimate of "Please add it." would contradict it); the assessment stays in the evidence.
- **Asked once per list.** What we asked is read back from our own newest ask comment on the
  request (its author is the service account; tools/refinement/completeness.asked_keys), so it
  survives restarts and holds across workers: the same list is not asked again, a changed list is
  asked once more, naming only what is still missing. The ask's facts are the list too, so the
  ledger's repeat rule (graphs/repeats.py) also holds when two runs race.
- **Re-triage after edits** (service/events/routes_intake.py): a request whose newest ask is
  newer than our newest refinement comment (`AskState.waiting`) is triaged again when it changes.
- **Declined duplicates.** A `link_duplicate` a person rejected for (request, item) is read from
  the feedback store (`ctx.feedback`, the rejection hook every surface goes through) and that pair
  is never proposed again, whatever the request's text becomes: the person compared the two tasks.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol, cast

from pydantic import BaseModel

from agents.proposal import Action, ActionKind, Proposal, Scope
from agents.triage.args import TriageArgs
from agents.triage.assess import TaskAssessment, assess_task, note_variables
from agents.triage.index import ESTIMATOR_CACHE
from agents.triage.inputs import TriageInputs, home_project, is_work_item, story_points
from agents.triage.proposal import TAG, summary_row, task_actions
from tools.asana.field_names import BUSINESS_VALUE, PRIORITY
from tools.asana.models import Project, Story, Task, User
from tools.feedback.models import FeedbackKind, FeedbackSource
from tools.llm.factory import OFFLINE
from tools.llm.labels import combined
from tools.refinement.completeness import Gap, ask_comment, asked_keys, gap_keys, is_ask, request_gaps
from tools.refinement.duplicates import DuplicateCheck, candidates_from, find_duplicates

if TYPE_CHECKING:
    from graphs.context import RunContext

# Fields the priority score reads: on the request's project but left empty → asked for.
REQUIRED_FIELDS = (BUSINESS_VALUE, PRIORITY)
REFINEMENT_HEADING = f"{TAG} Backlog refinement"
# How long a declined duplicate pair is remembered (the feedback store keeps every rejection).
DECLINED_MEMORY = timedelta(days=365)


class IntakeReader(Protocol):
    """The read besides `AsanaReads` intake makes (the typed client has it)."""

    def me(self) -> User: ...


class AskState(BaseModel):
    """What our own comments on a request say: the newest ask's list, and whether it still waits."""

    asked: frozenset[str] | None = None  # gap keys of our newest ask comment; None: never asked
    asked_at: datetime | None = None
    # Our newest ask is newer than our newest refinement comment: the request waits for information.
    waiting: bool = False


def ask_state(stories: list[Story], me: str) -> AskState:
    """Read from the request's comments written by the service account `me` (a person quoting our
    text is not us); stories come oldest first, as Asana lists them."""
    state = AskState()
    for story in stories:
        if story.type != "comment" or story.created_by is None or story.created_by.gid != me:
            continue
        text = story.text or ""
        if is_ask(text, TAG):
            state = AskState(asked=asked_keys(text), asked_at=story.created_at, waiting=True)
        elif text.lstrip().startswith(REFINEMENT_HEADING):
            state = state.model_copy(update={"waiting": False})
    return state


def declined_originals(source: FeedbackSource | None, request_gid: str, now: datetime) -> set[str]:
    """Backlog items a person rejected as this request's duplicate (feedback store rows)."""
    if source is None:
        return set()
    rows = source.items(
        since=now - DECLINED_MEMORY, task_gids=[request_gid], kinds=[FeedbackKind.ACTION_REJECTED]
    )
    out: set[str] = set()
    for row in rows:
        predicted = row.predicted if isinstance(row.predicted, dict) else {}
        original = predicted.get("original")
        if row.action_kind == ActionKind.LINK_DUPLICATE.value and isinstance(original, str):
            out.add(original)
    return out


def _link(name: str, url: str | None, gid: str) -> str:
    return f"“{name}” ({url or f'task {gid}'})"


def duplicate_action(request: Task, check: DuplicateCheck) -> Action | None:
    match, resolution = check.duplicate, check.resolution
    if match is None or resolution is None:
        return None
    name = request.name or request.gid
    original = _link(match.name, match.permalink_url, match.gid)
    asked = _link(name, request.permalink_url, request.gid)
    sim = f"similarity {match.similarity:.2f}"
    done = " (already completed)" if match.completed else ""
    if resolution == "merge":
        request_text = (
            f"{TAG} Duplicate of {original}{done}, {sim}. Closed as a duplicate on approval: follow "
            "that task for progress, and reopen this one if it asks for something different."
        )
        original_text = f"{TAG} A request from the intake form repeats this task: {asked} ({sim})."
    else:
        request_text = (
            f"{TAG} Related to the backlog item {original}{done}, {sim}: linked on approval so the "
            "two are refined and planned together."
        )
        original_text = f"{TAG} A related request came in through the intake form: {asked} ({sim})."
    verb = "merge into" if resolution == "merge" else "link with"
    return Action(
        kind=ActionKind.LINK_DUPLICATE,
        target=request.gid,
        params={
            "original": match.gid,
            "resolution": resolution,
            "request_text": request_text,
            "original_text": original_text,
        },
        # One fact per (request, item, resolution): applied once, never proposed again.
        facts={"request": request.gid, "original": match.gid, "resolution": resolution},
        reason=f"{name}: near-duplicate of “{match.name}” ({sim}); {verb} it",
    )


def ask_action(request: Task, gaps: list[Gap], state: AskState | None = None) -> Action | None:
    """The ask comment, unless our newest ask already asked for exactly these things."""
    keys = gap_keys(gaps)
    if not gaps or (state is not None and state.asked == keys):
        return None
    follow_up = state is not None and state.asked is not None
    return Action(
        kind=ActionKind.POST_COMMENT,
        target=request.gid,
        params={"text": ask_comment(gaps, TAG, follow_up=follow_up)},
        # What is asked, not how it is worded (the word count moves as people type).
        facts={"request": request.gid, "asks": sorted(keys)},
        reason=f"{request.name or request.gid}: ask the requester for " + ", ".join(g.what for g in gaps),
    )


def _summary(
    intake: Project,
    a: TaskAssessment,
    check: DuplicateCheck,
    gaps: list[Gap],
    history: int,
    asked_again: bool,
) -> str:
    lines = [
        f"## Intake request in {intake.name or intake.gid}: {a.name}",
        "",
        f"Compared with {history} completed, estimated backlog tasks and {check.compared} backlog items.",
        "",
        "| Task | Estimate | Range | Criteria | Priority | Risk |",
        "|------|---------:|------:|---------:|---------:|-----:|",
        summary_row(a),
        "",
    ]
    if check.duplicate is not None:
        d = check.duplicate
        lines.append(
            f"**Near-duplicate:** “{d.name}” (similarity {d.similarity:.2f}, runner-up "
            f"{check.runner_up:.2f}) — proposed: **{check.resolution}** (needs approval)."
        )
    else:
        closest = check.closest[0] if check.closest else None
        shown = f" (closest: “{closest.name}”, {closest.similarity:.2f})" if closest else ""
        lines.append(f"**Near-duplicates:** none{shown}.")
    if check.declined:
        declined = ", ".join(check.declined)
        lines.append(f"**Declined earlier as its duplicate (not proposed again):** {declined}.")
    if gaps:
        asked = "the requester is asked" if asked_again else "already asked for exactly this; not asked again"
        lines.append(
            "**Missing:** " + "; ".join(g.what for g in gaps) + f" — {asked}. The estimate, the AI "
            "fields and the refinement comment wait until the request is complete."
        )
    else:
        lines.append("**Missing:** nothing; the request is complete.")
    lines += ["", f"_Rule: {check.rule}._"]
    return "\n".join(lines)


def read_backlogs(ctx: RunContext, workspace: str, names: list[str]) -> list[tuple[Project, list[Task]]]:
    """The configured backlog projects and their work items (one paged read each)."""
    out: list[tuple[Project, list[Task]]] = []
    for ref in dict.fromkeys(names):
        project = ctx.asana.find_project(workspace, ref)
        if all(p.gid != project.gid for p, _ in out):
            out.append((project, [t for t in ctx.asana.project_tasks(project.gid) if is_work_item(t)]))
    return out


def run_intake(args: TriageArgs, workspace: str, ctx: RunContext) -> Proposal:
    from tools.llm.engine import LanguageEngine
    from tools.llm.writers.triage import PROMPT_ID, TriageNote

    assert args.task
    request = ctx.asana.task(args.task)
    home = home_project(request)
    if home is None:
        raise ValueError("the request is in no project")
    intake = ctx.asana.find_project(workspace, home)
    backlogs = read_backlogs(ctx, workspace, args.backlogs)
    rows = [t for _, tasks in backlogs for t in tasks if t.gid != request.gid]
    history_tasks = [t for t in rows if t.completed and (story_points(t) or 0) > 0]
    inputs = TriageInputs(
        workspace_gid=workspace,
        project=intake,
        targets=[request],
        history=history_tasks,
        completed_gids={t.gid for t in rows if t.completed},
        known_open_gids={t.gid for t in rows if not t.completed},
    )
    history = [(t, p) for t in history_tasks if (p := story_points(t))]
    key = (str(getattr(ctx.asana, "base_url", "")), "+".join(p.gid for p, _ in backlogs))
    estimator = ESTIMATOR_CACHE.index_for(key, history) if history else None
    engine: LanguageEngine = ctx.language or LanguageEngine()
    now = ctx.now()
    assessment = assess_task(request, inputs, estimator, now)
    candidates = [
        c
        for project, tasks in backlogs
        for c in candidates_from(project.gid, tasks, now, exclude={request.gid})
    ]
    declined = declined_originals(ctx.feedback, request.gid, now)
    check = find_duplicates(request.name or "", request.notes or "", candidates, rejected=declined)
    empty = [f for f in REQUIRED_FIELDS if request.has_field(f) and request.field(f) is None]
    gaps = request_gaps(request.notes, assessment.criteria, empty)
    state = None
    if gaps:  # what our own comments already asked (read from Asana)
        state = ask_state(ctx.asana.stories(request.gid), cast(IntakeReader, ctx.asana).me().gid)
    ask = ask_action(request, gaps, state)
    # An incomplete request is not estimated yet (see the module docstring): no note to write.
    label = OFFLINE
    actions: list[Action] = []
    if not gaps:
        note, label = engine.write(PROMPT_ID, note_variables(assessment), TriageNote)
        actions = task_actions(assessment, note, intake.gid, label)
    actions += [a for a in (ask, duplicate_action(request, check)) if a is not None]
    projects = [intake.gid] + [
        p.gid for p, _ in backlogs if check.duplicate and p.gid == check.duplicate.project_gid
    ]
    return Proposal(
        agent="triage",
        scope=Scope(workspace_gid=workspace, project_gids=list(dict.fromkeys(projects))),
        title=f"Intake request: {assessment.name}",
        summary_markdown=_summary(intake, assessment, check, gaps, len(history), ask is not None),
        evidence={
            "intake": True,
            "tasks": [assessment.model_dump(mode="json")],
            "engines": [label],
            "history_size": len(history),
            "backlogs": [p.gid for p, _ in backlogs],
            "duplicates": check.model_dump(mode="json"),
            "gaps": [g.model_dump() for g in gaps],
            "asked_before": sorted(state.asked) if state and state.asked is not None else None,
        },
        actions=actions,
        model=combined([label]),
        prompts=[engine.prompt_ref(PROMPT_ID)],
        # A rerun while this one waits for a decision adds nothing (graphs/repeats.py).
        subject=f"intake:{request.gid}",
    )
