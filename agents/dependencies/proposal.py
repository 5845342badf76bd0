"""Turn a dependency analysis into the Proposal: Risk Scores and alerts (auto), due-date shifts
(approval), and a summary with cycles, critical path and resequencing suggestions.
"""

from __future__ import annotations

from typing import Any

from agents.dependencies.analysis import DependencyAnalysis
from agents.dependencies.inputs import DependencyInputs
from agents.proposal import Action, ActionKind, Proposal, Scope
from tools.asana.field_names import RISK_SCORE
from tools.llm.labels import written_by

MAX_RISK_WRITES = 200  # a cascade through a huge backlog should not become thousands of writes
SHOWN = 12


def _name(analysis: DependencyAnalysis, gid: str) -> str:
    return analysis.node(gid).name or gid


def risk_actions(analysis: DependencyAnalysis, inputs: DependencyInputs) -> list[Action]:
    # Cascade-affected tasks and the model's flags (analysis.risks holds both, merged).
    ranked = sorted(analysis.risks, key=lambda g: (-analysis.risks[g].score, g))
    out = []
    for gid in ranked[:MAX_RISK_WRITES]:
        task = inputs.tasks.get(gid)
        if task is None or task.completed:
            continue
        risk = analysis.risks[gid]
        current = task.field(RISK_SCORE)
        why = "; ".join(risk.reasons) or "no pressure"
        if task.number(RISK_SCORE) == risk.score:
            continue
        out.append(
            Action(
                kind=ActionKind.SET_CUSTOM_FIELD,
                target=gid,
                params={"field": RISK_SCORE, "value": risk.score, "project": inputs.home_project[gid]},
                before={RISK_SCORE: current},
                after={RISK_SCORE: risk.score},
                reason=f"{_name(analysis, gid)}: Risk Score {risk.score} ({why})",
            )
        )
    return out


def shift_actions(analysis: DependencyAnalysis, inputs: DependencyInputs) -> list[Action]:
    out = []
    for a in analysis.late():
        # An implicit (sprint-end) due date is the team's plan, not a field: never write one.
        if a.gid not in inputs.tasks or a.due_on is None or analysis.node(a.gid).due_implicit:
            continue
        new = a.earliest_finish.isoformat()
        out.append(
            Action(
                kind=ActionKind.UPDATE_TASK,
                target=a.gid,
                params={"due_on": new},
                before={"due_on": a.due_on.isoformat()},
                after={"due_on": new},
                reason=(
                    f"{_name(analysis, a.gid)}: earliest finish {new} is {-(a.slack_days or 0)} working days "
                    f"after its due date {a.due_on.isoformat()} because "
                    f"“{_name(analysis, a.via or a.gid)}” finishes later"
                ),
            )
        )
    return out


def alert_facts(gid: str, analysis: DependencyAnalysis) -> dict[str, Any]:
    """What an alert states, computed (never the wording, which a model may vary): the task, the
    prerequisite that slipped and why, and whether the task now misses its due date. A re-run
    that finds the same facts posts nothing (graphs/repeats.py), even as an overdue prerequisite
    pushes the dates a day further each day; a new prerequisite slipping, or the task turning late,
    is news and is posted."""
    by = analysis.cascade.by_gid()
    reasons = {s.gid: s.reason for s in analysis.slips}
    for a in analysis.direct_dependents():
        if a.gid == gid and a.via is not None and a.via in by:
            return {
                "dependency_alert": gid,
                "prerequisite": a.via,
                "reason": reasons.get(a.via, "slipped"),
                "late": bool(a.due_on and a.earliest_finish and a.earliest_finish > a.due_on),
            }
    return {"dependency_alert": gid}


def alert_action(gid: str, text: str, analysis: DependencyAnalysis) -> Action:
    return Action(
        kind=ActionKind.POST_COMMENT,
        target=gid,
        params={"text": text},
        facts=alert_facts(gid, analysis),
        reason=f"{_name(analysis, gid)}: alert — a direct prerequisite slipped",
    )


def summary_markdown(
    analysis: DependencyAnalysis, inputs: DependencyInputs, narrative: Any, engine: str
) -> str:
    c = analysis.cascade
    late = analysis.late()
    lines = [f"## Dependency check: {narrative.headline}", "", narrative.narrative, ""]
    lines += [
        f"- Graph: {analysis.graph.number_of_nodes()} tasks, "
        f"{analysis.graph.number_of_edges()} dependency links "
        f"over {', '.join(p.name or p.gid for p in inputs.projects)}.",
        f"- Pace: {inputs.pace.points_per_person_day:g} points per person per working day "
        f"({inputs.pace.source}"
        + (f", {inputs.pace.sprints} sprints" if inputs.pace.sprints else "")
        + "); durations from start/due dates when both exist, else points ÷ pace.",
        f"- Slipped: {len(analysis.slips)}; affected: {len(c.affected) - len(c.slipped)}; "
        f"now late: {len(late)}.",
    ]
    implicit = sum(1 for n in analysis.graph if analysis.node(n).due_implicit)
    if implicit:
        lines.append(
            f"- {implicit} task{'s' if implicit != 1 else ''} without a due date scheduled to "
            "the sprint's end (never written to Asana)."
        )
    dm = analysis.delay_model
    if dm is not None:
        lines.append(
            f"- {dm.note}" + (f"; {len(dm.flags)} flagged of {len(dm.scored)} open." if dm.scored else ".")
        )
        if dm.flags:
            lines += ["", "**Likely to finish late (delay-risk model)**"]
            lines += [
                f"- {_name(analysis, f.gid)}: {round(100 * f.probability)}% — " + "; ".join(f.reasons[:3])
                for f in dm.flags[:SHOWN]
            ]
    if analysis.slips:
        lines += ["", "**Slipped**"]
        by = c.by_gid()
        lines += [
            f"- {_name(analysis, s.gid)}: {s.reason}; finishes {by[s.gid].earliest_finish.isoformat()}"
            for s in analysis.slips[:SHOWN]
            if s.gid in by
        ]
    rows = [a for a in c.affected if a.depth > 0]
    if rows:
        lines += [
            "",
            "| Task | Depth | Earliest start | Earliest finish | Due | Slack (wd) | Risk |",
            "|------|------:|----------------|-----------------|-----|-----------:|-----:|",
        ]
        rows.sort(key=lambda a: (a.slack_days if a.slack_days is not None else 10**6, a.depth, a.gid))
        for a in rows[: SHOWN * 2]:
            lines.append(
                f"| {_name(analysis, a.gid)} | {a.depth} | {a.earliest_start.isoformat()} | "
                f"{a.earliest_finish.isoformat()} | {a.due_on.isoformat() if a.due_on else '–'} | "
                f"{'–' if a.slack_days is None else a.slack_days} | {analysis.risks[a.gid].score} |"
            )
        if len(rows) > SHOWN * 2:
            lines.append(f"_…and {len(rows) - SHOWN * 2} more (all listed in the evidence)._")
    if analysis.suggestions:
        lines += ["", "**Resequencing suggestions**", *[f"- {s}" for s in analysis.suggestions]]
    if analysis.critical.gids:
        names = " → ".join(_name(analysis, g) for g in analysis.critical.gids[:10])
        more = "" if len(analysis.critical.gids) <= 10 else " → …"
        lines += ["", f"**Critical path** ({analysis.critical.working_days} working days): {names}{more}"]
    if analysis.cycles:
        lines += ["", f"**Dependency cycles** ({len(analysis.cycles)}; tasks on them cannot be scheduled)"]
        lines += [
            "- " + " → ".join(_name(analysis, g) for g in [*cy, cy[0]]) for cy in analysis.cycles[:SHOWN]
        ]
    if c.skipped_in_cycle:
        lines.append(
            f"_{len(c.skipped_in_cycle)} affected tasks sit on or behind a cycle and were not rescheduled._"
        )
    if inputs.missing_fields:
        lines.append(f"_Fields missing from these projects: {', '.join(inputs.missing_fields)}._")
    lines += ["", f"_Written by {written_by(engine)}; dates computed by sprintpilot's dependency manager._"]
    return "\n".join(lines)


def evidence(analysis: DependencyAnalysis, inputs: DependencyInputs) -> dict[str, Any]:
    return {
        "pace": inputs.pace.model_dump(),
        "slips": [
            {
                "gid": s.gid,
                "reason": s.reason,
                "days": s.days,
                "new_finish": s.new_finish and s.new_finish.isoformat(),
            }
            for s in analysis.slips
        ],
        "affected": [
            {
                "gid": a.gid,
                "depth": a.depth,
                "via": a.via,
                "earliest_start": a.earliest_start.isoformat(),
                "earliest_finish": a.earliest_finish.isoformat(),
                "due_on": a.due_on.isoformat() if a.due_on else None,
                "slack_days": a.slack_days,
                "delay_days": a.delay_days,
                "duration_days": a.duration_days,
                "duration_source": a.duration_source,
                "due_implicit": analysis.node(a.gid).due_implicit,
                "risk_score": analysis.risks[a.gid].score,
                "risk_reasons": analysis.risks[a.gid].reasons,
            }
            for a in analysis.cascade.affected
        ],
        # Which engine produced which Risk Score: the cascade's logistic score for "affected", the
        # team-trained model for "delay_model.flagged"; risk_scores is the merged value written.
        "risk_engines": {
            "cascade": "logistic schedule score (tools/delay_risk/task_score.py)",
            "model": analysis.delay_model.evidence()["engine"] if analysis.delay_model else None,
        },
        "delay_model": analysis.delay_model.evidence() if analysis.delay_model else None,
        "risk_scores": {g: r.score for g, r in sorted(analysis.risks.items())},
        "cycles": analysis.cycles,
        "skipped_in_cycle": analysis.cascade.skipped_in_cycle,
        "critical_path": {"gids": analysis.critical.gids, "working_days": analysis.critical.working_days},
        "predicted_late": analysis.predicted_late,
        "suggestions": analysis.suggestions,
        "missing_fields": inputs.missing_fields,
    }


def make_proposal(
    analysis: DependencyAnalysis,
    inputs: DependencyInputs,
    narrative: Any,
    alerts: dict[str, str],
    engine: str,
    prompts: list[Any],
) -> Proposal:
    actions = risk_actions(analysis, inputs)
    actions += [alert_action(g, text, analysis) for g, text in alerts.items()]
    actions += shift_actions(analysis, inputs)
    late = analysis.late()
    title = (
        f"Approve {len(late)} due-date shift{'s' if len(late) != 1 else ''} after a dependency slip"
        if late
        else "Dependency check: no due date needs to move"
    )
    slipped = ",".join(sorted(s.gid for s in analysis.slips if s.reason != "blocked")) or "-"
    return Proposal(
        agent="dependencies",
        scope=Scope(workspace_gid=inputs.workspace_gid, project_gids=[p.gid for p in inputs.projects]),
        title=title,
        # A newer check of the same projects (and the same what-if slip) replaces a waiting one.
        subject=f"dependencies:{','.join(sorted(p.gid for p in inputs.projects))}:{slipped}",
        summary_markdown=summary_markdown(analysis, inputs, narrative, engine),
        evidence=evidence(analysis, inputs),
        actions=actions,
        model=engine,
        prompts=prompts,
    )
