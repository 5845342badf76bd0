"""Turn a computed sprint plan into the Proposal a human approves.

Numbers come from the plan; the only language is the sprint goal/narrative from the language
engine (offline templates by default) and the fixed markdown around it.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from agents.planner.inputs import DEFAULT_SECTIONS, PlanningInputs, SprintBoard
from agents.planner.plan import SprintPlan
from agents.proposal import Action, ActionKind, Proposal, Scope
from tools.asana.field_names import SPRINT
from tools.asana.models import Goal
from tools.llm.labels import written_by
from tools.llm.offline import number
from tools.standup.capacity import plan_capacity_line

SPRINT_REF = "sprint_project"
# Where the planned tasks go: the first board section with one of these names (in this order of
# preference), else the board's first section.
TODO_NAMES = ("to do", "todo", "sprint backlog", "ready", "not started", "backlog")
HIGH_EFFORT = 8.0
DEPENDENCY_HEAVY = 3
LEFT_OUT_SHOWN = 8


def default_board() -> SprintBoard:
    return SprintBoard(sections=list(DEFAULT_SECTIONS), sections_from="default")


def todo_index(sections: list[str]) -> int:
    folded = [s.casefold() for s in sections]
    return next((folded.index(n) for n in TODO_NAMES if n in folded), 0)


def board_line(board: SprintBoard, names: dict[str, str]) -> str:
    source = "default" if board.sections_from == "default" else f"as on {board.sections_from}"
    line = f"- Board: sections {', '.join(board.sections)} ({source})"
    if board.fields:
        line += f"; {len(board.fields)} custom fields of the backlog ({', '.join(board.fields)})"
    if board.owner_gid:
        line += f"; owner {names.get(board.owner_gid, board.owner_gid)} ({board.owner_from})"
    return line + "."


def _fmt(x: float | None, digits: int = 1) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


def risks_of(plan: SprintPlan, inputs: PlanningInputs) -> list[str]:
    by_gid = {it.gid: it for it in inputs.items}
    risks: list[str] = []
    for gid in plan.chosen:
        it = by_gid[gid]
        if it.effort is not None and it.effort >= HIGH_EFFORT:
            risks.append(f"high effort ({it.effort:g}): {it.name}")
        open_deps = [d for d in it.depends_on if d not in inputs.done_gids]
        if len(open_deps) >= DEPENDENCY_HEAVY:
            risks.append(f"depends on {len(open_deps)} unfinished items: {it.name}")
    v = plan.velocity
    if v.recommended_capacity and plan.selection.total_points > (v.predicted_high or v.recommended_capacity):
        risks.append("scope is above the high end of the historical velocity range")
    if plan.assignment:
        risks.extend(f.message for f in plan.assignment.flags if f.kind == "over_capacity")
    # The same words as the offline writer's, so its list (which starts with these) repeats none.
    points, capacity = plan.selection.total_points, round(plan.capacity.capacity, 1)
    if capacity and points / capacity > 0.9:
        risks.append(
            f"plan uses {points / capacity:.0%} of capacity, leaving little slack for unplanned work"
        )
    median = v.median or 0
    if median and points > median * 1.1:
        risks.append(f"scope is {number(points - median)} points above the median velocity")
    return risks


def left_out(plan: SprintPlan, inputs: PlanningInputs) -> list[tuple[str, str]]:
    """Open items not chosen, best score first, with the reason they stayed out."""
    chosen = set(plan.chosen)
    by_gid = {it.gid: it for it in inputs.items}
    rows = []
    for gid, s in plan.scores.items():
        if gid in chosen:
            continue
        if gid in plan.selection.excluded:
            why = plan.selection.excluded[gid]
        elif gid in plan.selection.over_capacity:
            why = f"needs {plan.selection.over_capacity[gid]:g} points with its prerequisites"
        else:
            why = "lower score per point than what fits in the capacity"
        rows.append((s.score, by_gid[gid].name, why))
    rows.sort(key=lambda r: (-r[0], r[1]))
    return [(name, why) for _, name, why in rows]


def goal_lines(goal: Goal | None) -> list[str]:
    """The Asana goal the sprint will support (linked once the plan is approved)."""
    if goal is None:
        return []
    progress = goal.metric.progress if goal.metric else None
    so_far = "" if progress is None else f", {progress:.0%} so far"
    return ["", f"**Asana goal:** {goal.name or goal.gid} (this sprint will support it{so_far})"]


def _forecast_line(plan: SprintPlan) -> str:
    fc = plan.forecast
    if fc is None or plan.completion_probability is None:
        return "- Forecast: no completed sprints yet, so no probability can be given."
    line = (
        f"- Forecast (Monte Carlo over {fc.history_used} sprints): P50 {fc.p(50):.0f}, "
        f"P85 {fc.p(85):.0f}, P95 {fc.p(95):.0f} points; "
        f"**{plan.completion_probability:.0%} chance** the proposed scope completes."
    )
    return line + (f" _{fc.caveat}_" if fc.caveat else "")


def _ahead_lines(inputs: PlanningInputs, today: date | None) -> list[str]:
    """A plan made while the latest sprint has not started plans the one after it: said, so a
    second `plan` is not mistaken for a re-plan of the sprint that is already planned."""
    if today is None or not inputs.sprints:
        return []
    last = inputs.sprints[-1].project
    if last.start_on is None or last.start_on <= today:
        return []
    return [
        f"- Ahead: {last.name} is already planned and starts {last.start_on.isoformat()}; "
        "this plans the sprint after it."
    ]


def summary_markdown(
    plan: SprintPlan,
    inputs: PlanningInputs,
    sprint_name: str,
    window: tuple[date, date],
    narrative: Any,
    engine: str,
    names: dict[str, str],
    board: SprintBoard | None = None,
    goal: Goal | None = None,
    *,
    today: date | None = None,
) -> str:
    v, cap, sel = plan.velocity, plan.capacity, plan.selection
    by_gid = {it.gid: it for it in inputs.items}
    loads = plan.assignment.loads if plan.assignment else []
    # Read back by the stand-up (tools/standup/capacity.py): each person's capacity, as fitted.
    per_person = [plan_capacity_line((p.name or p.gid, p.capacity, p.assigned_points) for p in loads)]
    lines = [
        f"## {sprint_name} plan ({window[0].isoformat()} → {window[1].isoformat()})",
        "",
        f"**Sprint goal:** {narrative.sprint_goal}",
        *goal_lines(goal),
        "",
        narrative.narrative,
        "",
        *_ahead_lines(inputs, today),
        f"- Scope: {len(sel.chosen)} items, {sel.total_points:g} points (capacity {cap.capacity:g}, "
        f"source: {cap.source}).",
        f"- Velocity of the last {len(v.completed)} sprints: "
        + ", ".join(f"{c:g}" for c in v.completed)
        + f" (mean {_fmt(v.mean)}, median {_fmt(v.median)}, stdev {_fmt(v.stdev)}); "
        f"predicted {_fmt(v.predicted_low)}–{_fmt(v.predicted_high)} points.",
        _forecast_line(plan),
        f"- Selection: {sel.status} ({sel.solver}, gap {sel.gap:.2%}), total score {sel.total_score:.2f}, "
        f"formula `{plan.formula}`.",
        board_line(board or default_board(), names),
        *(per_person if loads else []),
        "",
        "| # | Task | Points | Score | Assignee |",
        "|---|------|-------:|------:|----------|",
    ]
    assigned = plan.assignment.assignments if plan.assignment else {}
    for i, gid in enumerate(sel.chosen, 1):
        it = by_gid[gid]
        who = names.get(assigned.get(gid, ""), "unassigned")
        lines.append(f"| {i} | {it.name} | {it.points or 0:g} | {plan.scores[gid].score:.2f} | {who} |")
    # Computed facts, never the model's list: a model only phrases them (in the narrative).
    risks = risks_of(plan, inputs)
    if risks:
        lines += ["", "**Risks**", *[f"- {r}" for r in risks]]
    out = left_out(plan, inputs)
    if out:
        lines += ["", f"**Left out** ({len(out)} open items; top {min(len(out), LEFT_OUT_SHOWN)} by score)"]
        lines += [f"- {name}: {why}" for name, why in out[:LEFT_OUT_SHOWN]]
    if sel.cycles:
        lines += ["", f"**Dependency cycles** ({len(sel.cycles)}; their items were left out until resolved)"]
        lines += [
            "- " + " → ".join(by_gid[g].name if g in by_gid else g for g in [*c, c[0]]) for c in sel.cycles
        ]
    if plan.unestimated:
        shown = ", ".join(by_gid[g].name for g in plan.unestimated[:5])
        lines += ["", f"**Needs estimation:** {len(plan.unestimated)} items have no Story Points ({shown}…)"]
    if cap.warnings:
        lines += ["", *[f"_Note: {w}_" for w in cap.warnings]]
    lines += ["", f"_Written by {written_by(engine)}; numbers computed by sprintpilot's planner._"]
    return "\n".join(lines)


def build_actions(
    plan: SprintPlan,
    inputs: PlanningInputs,
    sprint_name: str,
    window: tuple[date, date],
    summary: str,
    board: SprintBoard | None = None,
    goal: Goal | None = None,
) -> list[Action]:
    backlog = inputs.backlog
    board = board or default_board()
    actions: list[Action] = [
        Action(
            kind=ActionKind.CREATE_PROJECT,
            ref=SPRINT_REF,
            params={
                "name": sprint_name,
                "workspace_gid": inputs.workspace_gid,
                "team_gid": backlog.team.gid if backlog.team else None,
                "notes": f"Planned by sprintpilot from {backlog.name}.",
                "start_on": window[0].isoformat(),
                "due_on": window[1].isoformat(),
                # A person owns the team's board (sprintpilot, the creator, would otherwise).
                "owner_gid": board.owner_gid,
            },
            reason=f"new sprint project {sprint_name}",
        )
    ]
    if board.fields and board.fields_from:
        actions.append(
            Action(
                kind=ActionKind.ADD_PROJECT_FIELDS,
                target=f"ref:{SPRINT_REF}",
                params={"fields": board.fields, "source": board.fields_from},
                reason=f"{sprint_name} gets the backlog's custom fields (the agents set them on its tasks)",
            )
        )
    refs = [f"section_{i}" for i in range(len(board.sections))]
    for i, name in enumerate(board.sections):
        # The first column takes over the "Untitled section" Asana gives a new project.
        actions.append(
            Action(
                kind=ActionKind.CREATE_SECTION,
                target=f"ref:{SPRINT_REF}",
                ref=refs[i],
                params={"name": name, "rename_default": i == 0},
                reason=f"{name} column of {sprint_name}"
                + ("" if board.sections_from == "default" else f" (as on {board.sections_from})"),
            )
        )
    if goal is not None:
        actions.append(
            Action(
                kind=ActionKind.LINK_GOAL,
                target=f"ref:{SPRINT_REF}",
                params={"goal": goal.gid},
                reason=f"{sprint_name} supports the Asana goal {goal.name or goal.gid}",
            )
        )
    todo = refs[todo_index(board.sections)]
    assigned = plan.assignment.assignments if plan.assignment else {}
    for gid in plan.chosen:
        task = inputs.tasks[gid]
        label = task.name or gid
        actions.append(
            Action(
                kind=ActionKind.ADD_TO_PROJECT,
                target=gid,
                params={"project": f"ref:{SPRINT_REF}", "section": f"ref:{todo}"},
                reason=f"{label}: chosen for {sprint_name} (score {plan.scores[gid].score:.2f})",
            )
        )
        current_sprint = task.field(SPRINT)
        if current_sprint != sprint_name:
            actions.append(
                Action(
                    kind=ActionKind.SET_CUSTOM_FIELD,
                    target=gid,
                    params={"field": SPRINT, "value": sprint_name, "project": backlog.gid},
                    before={SPRINT: current_sprint},
                    after={SPRINT: sprint_name},
                    reason=f"{label}: Sprint field → {sprint_name}",
                )
            )
        new_owner = assigned.get(gid)
        current_owner = task.assignee.gid if task.assignee else None
        if new_owner and new_owner != current_owner:
            actions.append(
                Action(
                    kind=ActionKind.UPDATE_TASK,
                    target=gid,
                    params={"assignee": new_owner},
                    before={"assignee": current_owner},
                    after={"assignee": new_owner},
                    reason=f"{label}: assign for balance and skill match",
                )
            )
    actions.append(
        Action(
            kind=ActionKind.POST_STATUS_UPDATE,
            target=f"ref:{SPRINT_REF}",
            params={"title": f"{sprint_name} plan", "text": summary, "status_type": "on_track"},
            reason="sprint plan summary (scope, velocity, risks, what was left out)",
        )
    )
    return actions


def evidence(plan: SprintPlan, inputs: PlanningInputs, board: SprintBoard | None = None) -> dict[str, Any]:
    return {
        "formula": plan.formula,
        "velocity": plan.velocity.model_dump(mode="json"),
        "capacity": plan.capacity.model_dump(mode="json"),
        "selection": plan.selection.model_dump(mode="json"),
        "assignment": plan.assignment.model_dump(mode="json") if plan.assignment else None,
        "scores": {g: round(s.score, 4) for g, s in plan.scores.items() if g in set(plan.chosen)},
        "unestimated": plan.unestimated,
        "forecast": plan.forecast.model_dump(mode="json") if plan.forecast else None,
        "completion_probability": plan.completion_probability,
        "missing_fields": inputs.missing_fields,
        "board": board.model_dump(mode="json") if board is not None else None,
        "backlog_items_read": len(inputs.items),
        # Finished sprints only: a planned or active sprint is not velocity history.
        "past_sprints": [s.record.model_dump(mode="json") for s in inputs.history],
    }


def make_proposal(
    plan: SprintPlan,
    inputs: PlanningInputs,
    sprint_name: str,
    window: tuple[date, date],
    narrative: Any,
    engine: str,
    names: dict[str, str],
    prompts: list[Any],
    board: SprintBoard | None = None,
    goal: Goal | None = None,
    today: date | None = None,
) -> Proposal:
    summary = summary_markdown(
        plan, inputs, sprint_name, window, narrative, engine, names, board, goal, today=today
    )
    facts = evidence(plan, inputs, board)
    if goal is not None:
        progress = goal.metric.progress if goal.metric else None
        facts["goal"] = {"gid": goal.gid, "name": goal.name, "progress": progress}
    return Proposal(
        agent="planner",
        scope=Scope(workspace_gid=inputs.workspace_gid, project_gids=[inputs.backlog.gid]),
        title=f"Approve {sprint_name} backlog",
        # One next sprint per backlog: a newer plan replaces a waiting older one.
        subject=f"sprint-plan:{inputs.backlog.gid}",
        summary_markdown=summary,
        evidence=facts,
        actions=build_actions(plan, inputs, sprint_name, window, summary, board, goal),
        model=engine,
        prompts=prompts,
    )
