"""Turn task assessments into the triage Proposal: AI fields (auto class) plus an `[AI Proposal]` comment."""

from __future__ import annotations

from typing import Any

from agents.proposal import Action, ActionKind, PromptRef, Proposal, Scope
from agents.triage.assess import TaskAssessment
from agents.triage.inputs import TriageInputs
from tools.asana.field_names import AI_PRIORITY_SCORE, AI_SUGGESTION, ESTIMATED_STORY_POINTS, RISK_SCORE
from tools.llm.labels import combined, with_footer, written_by_all
from tools.llm.writers.triage import TriageNote
from tools.refinement.priority import PriorityScore
from tools.refinement.risk import RULES_DOC

TAG = "[AI Proposal]"


def _fmt(x: float | None) -> str:
    if x is None:
        return "n/a"
    return str(int(x)) if float(x).is_integer() else f"{x:.1f}"


Row = tuple[TaskAssessment, TriageNote, str]  # the assessment, its words, the engine that wrote them


def comment_text(a: TaskAssessment, note: TriageNote, engine: str = "offline") -> str:
    lines = [f"{TAG} Backlog refinement", "", note.summary, ""]
    if a.estimate:
        e = a.estimate
        lines.append(
            f"**Estimate:** {_fmt(e.points)} story points (range {_fmt(e.low)}–{_fmt(e.high)}, "
            f"{e.method}, confidence {e.confidence:.2f})"
        )
        if e.similar:
            lines.append("**Similar completed tasks:**")
            lines += [f"- {s.name} — {_fmt(s.points)} pts (similarity {s.similarity:.2f})" for s in e.similar]
    else:
        lines.append("**Estimate:** none (no completed, estimated tasks to compare with)")
    lines.append("")
    if a.criteria.present:
        lines.append(f"**Acceptance criteria found ({len(a.criteria.items)}):**")
        lines += [f"- {c.text}" for c in a.criteria.items[:12]]
    else:
        lines.append("**Acceptance criteria:** none found — please add them before planning.")
    lines += ["", f"**AI Priority Score:** {_fmt(a.priority.score)}/100 ({a.priority.formula})"]
    lines.append(f"**Risk:** {a.risk.score}/100 ({a.risk.flag})")
    lines += [f"- {r.text}" for r in a.risk.reasons]
    lines += ["", f"**Suggestion:** {note.suggestion}"]
    return with_footer("\n".join(lines), engine)


def _field_action(a: TaskAssessment, project: str, field: str, value: Any, reason: str) -> Action | None:
    if field not in a.fields_available:
        return None
    return Action(
        kind=ActionKind.SET_CUSTOM_FIELD,
        target=a.gid,
        params={"field": field, "value": value, "project": project},
        before={field: a.observed.get(field)},
        after={field: value},
        reason=f"{a.name}: {reason}",
    )


def task_actions(a: TaskAssessment, note: TriageNote, project: str, engine: str = "offline") -> list[Action]:
    candidates = [
        _field_action(
            a,
            project,
            ESTIMATED_STORY_POINTS,
            a.estimate.points if a.estimate else None,
            f"estimate {_fmt(a.estimate.points)} pts" if a.estimate else "no estimate",
        )
        if a.estimate
        else None,
        _field_action(
            a, project, AI_PRIORITY_SCORE, a.priority.score, f"AI Priority Score {a.priority.score}"
        ),
        _field_action(a, project, RISK_SCORE, a.risk.score, f"risk {a.risk.score} ({a.risk.flag})"),
        _field_action(a, project, AI_SUGGESTION, note.suggestion, "refinement suggestion"),
    ]
    actions = [x for x in candidates if x is not None]
    actions.append(
        Action(
            kind=ActionKind.POST_COMMENT,
            target=a.gid,
            params={"text": comment_text(a, note, engine)},
            reason=f"{a.name}: refinement summary (estimate, criteria, similar tasks, risks)",
        )
    )
    return actions


def summary_row(a: TaskAssessment) -> str:
    """One task's row of the refinement table (task, estimate, range, criteria, priority, risk)."""
    est = a.estimate
    return (
        f"| {a.name} | {_fmt(est.points) if est else 'n/a'} | "
        f"{f'{_fmt(est.low)}–{_fmt(est.high)}' if est else 'n/a'} | "
        f"{len(a.criteria.items) or 'missing'} | {_fmt(a.priority.score)} | "
        f"{a.risk.score} ({a.risk.flag}) |"
    )


def summary_markdown(inputs: TriageInputs, rows: list[Row]) -> str:
    lines = [
        f"## Backlog refinement: {len(rows)} task(s) in {inputs.project.name or inputs.project.gid}",
        "",
        f"Compared with {len(inputs.history)} completed, estimated tasks of the project.",
        "",
        "| Task | Estimate | Range | Criteria | Priority | Risk |",
        "|------|---------:|------:|---------:|---------:|-----:|",
    ]
    lines += [summary_row(a) for a, _, _ in rows]
    fallbacks = sorted({a.estimate.fallback for a, _, _ in rows if a.estimate and a.estimate.fallback})
    lines += [f"\n_Story points: {note}._" for note in fallbacks]
    if inputs.truncated:
        lines += ["", f"_{inputs.truncated} more task(s) not refined in this run (limit); run again._"]
    engines = written_by_all(label for _, _, label in rows)
    lines += ["", f"_Written by {engines}; numbers computed by sprintpilot's refinement tools._"]
    return "\n".join(lines)


def make_proposal(
    inputs: TriageInputs,
    rows: list[Row],
    prompts: list[PromptRef],
    history_size: int,
) -> Proposal:
    actions: list[Action] = []
    for a, note, engine in rows:
        actions += task_actions(a, note, inputs.project.gid, engine)
    return Proposal(
        agent="triage",
        scope=Scope(workspace_gid=inputs.workspace_gid, project_gids=[inputs.project.gid]),
        title=f"Refine {len(rows)} backlog task(s)",
        summary_markdown=summary_markdown(inputs, rows),
        evidence={
            "tasks": [a.model_dump(mode="json") for a, _, _ in rows],
            "engines": [label for _, _, label in rows],
            "history_size": history_size,
            "priority_formula": PriorityScore.model_fields["formula"].default,
            "risk_rules": RULES_DOC,
            "truncated": inputs.truncated,
        },
        actions=actions,
        model=combined(label for _, _, label in rows),
        prompts=prompts,
    )
