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
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agents.proposal import Action, ActionKind, Proposal, Scope
from agents.triage.args import TriageArgs
from agents.triage.assess import TaskAssessment, assess_task, note_variables
from agents.triage.index import ESTIMATOR_CACHE
from agents.triage.inputs import TriageInputs, home_project, is_work_item, story_points
from agents.triage.proposal import TAG, summary_row, task_actions
from tools.asana.field_names import BUSINESS_VALUE, PRIORITY
from tools.asana.models import Project, Task
from tools.llm.labels import combined
from tools.refinement.completeness import Gap, ask_comment, request_gaps
from tools.refinement.duplicates import DuplicateCheck, candidates_from, find_duplicates

if TYPE_CHECKING:
    from graphs.context import RunContext

# Fields the priority score reads: on the request's project but left empty → asked for.
REQUIRED_FIELDS = (BUSINESS_VALUE, PRIORITY)


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


def ask_action(request: Task, gaps: list[Gap]) -> Action | None:
    if not gaps:
        return None
    return Action(
        kind=ActionKind.POST_COMMENT,
        target=request.gid,
        params={"text": ask_comment(gaps, TAG)},
        reason=f"{request.name or request.gid}: ask the requester for " + ", ".join(g.what for g in gaps),
    )


def _summary(intake: Project, a: TaskAssessment, check: DuplicateCheck, gaps: list[Gap], history: int) -> str:
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
    if gaps:
        lines.append("**Missing:** " + "; ".join(g.what for g in gaps) + " — the requester is asked.")
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
    note, label = engine.write(PROMPT_ID, note_variables(assessment), TriageNote)
    candidates = [
        c
        for project, tasks in backlogs
        for c in candidates_from(project.gid, tasks, now, exclude={request.gid})
    ]
    check = find_duplicates(request.name or "", request.notes or "", candidates)
    empty = [f for f in REQUIRED_FIELDS if request.has_field(f) and request.field(f) is None]
    gaps = request_gaps(request.notes, assessment.criteria, empty)
    actions = task_actions(assessment, note, intake.gid, label)
    actions += [a for a in (ask_action(request, gaps), duplicate_action(request, check)) if a is not None]
    projects = [intake.gid] + [
        p.gid for p, _ in backlogs if check.duplicate and p.gid == check.duplicate.project_gid
    ]
    return Proposal(
        agent="triage",
        scope=Scope(workspace_gid=workspace, project_gids=list(dict.fromkeys(projects))),
        title=f"Intake request: {assessment.name}",
        summary_markdown=_summary(intake, assessment, check, gaps, len(history)),
        evidence={
            "intake": True,
            "tasks": [assessment.model_dump(mode="json")],
            "engines": [label],
            "history_size": len(history),
            "backlogs": [p.gid for p, _ in backlogs],
            "duplicates": check.model_dump(mode="json"),
            "gaps": [g.model_dump() for g in gaps],
        },
        actions=actions,
        model=combined([label]),
        prompts=[engine.prompt_ref(PROMPT_ID)],
        # A rerun while this one waits for a decision adds nothing (graphs/repeats.py).
        subject=f"intake:{request.gid}",
    )
