"""Turn a DoD report into the Proposal: an auto comment always, a gated move only on a full pass.

The decision to propose a move is `report.passed` and nothing else; task text reaches the comment
only as quoted data inside the code-built list of findings.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from agents.proposal import Action, ActionKind, PromptRef, Proposal, Scope
from tools.asana.models import Section, Task
from tools.dod.checks import quote
from tools.dod.config import OnPass
from tools.dod.loader import LoadedDod
from tools.dod.models import DodReport
from tools.llm.labels import with_footer

QA_NAME = "qa"


class MovePlan(BaseModel):
    """The move proposed on pass, resolved against the review project (or why a part is skipped)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    actions: list[Action]
    notes: list[str]

    def describe(self) -> str:
        return "; ".join(a.reason for a in self.actions)


def plan_move(task: Task, on_pass: OnPass, project_gid: str, sections: list[Section]) -> MovePlan:
    label = quote(task.name or task.gid)
    actions: list[Action] = []
    notes: list[str] = []
    if on_pass.section:
        target = next(
            (s for s in sections if (s.name or "").strip().casefold() == on_pass.section.casefold()), None
        )
        current = task.section_in(project_gid)
        if target is None:
            notes.append(f"the project has no “{on_pass.section}” section, so no section move is proposed")
        elif current is None or current.gid != target.gid:
            actions.append(
                Action(
                    kind=ActionKind.ADD_TO_SECTION,
                    target=task.gid,
                    params={"section": target.gid, "project": project_gid},
                    before={"section": current.gid if current else None},
                    after={"section": target.gid},
                    reason=f"move {label} to “{target.name}” (Definition of Done met)",
                )
            )
    if on_pass.status:
        field = task.custom_field(on_pass.status_field)
        if field is None:
            notes.append(f"the task has no “{on_pass.status_field}” field, so no status change is proposed")
        elif (field.display or "").casefold() != on_pass.status.casefold():
            actions.append(
                Action(
                    kind=ActionKind.SET_CUSTOM_FIELD,
                    target=task.gid,
                    params={"field": on_pass.status_field, "value": on_pass.status, "project": project_gid},
                    before={on_pass.status_field: field.value},
                    after={on_pass.status_field: on_pass.status},
                    reason=f"set {on_pass.status_field} of {label} to “{on_pass.status}”",
                )
            )
    if on_pass.complete and not task.completed:
        actions.append(
            Action(
                kind=ActionKind.UPDATE_TASK,
                target=task.gid,
                params={"completed": True},
                before={"completed": False},
                after={"completed": True},
                reason=f"mark {label} complete",
            )
        )
    return MovePlan(actions=actions, notes=notes)


def comment_text(report: DodReport, loaded: LoadedDod, headline: str, closing: str) -> str:
    unmet = report.findings
    title = (
        f"**Definition of Done review: all {len(report.checks)} checks pass**"
        if report.passed
        else f"**Definition of Done review: {len(unmet)} unmet item{'s' if len(unmet) != 1 else ''}**"
    )
    lines = [title, "", headline, ""]
    if unmet:
        lines.append("Unmet:")
        for i, f in enumerate(unmet, 1):
            lines += [f"{i}. {f.item}", f"   → To satisfy: {f.satisfy}"]
        lines.append("")
    lines.append("Checks:")
    lines += [f"- {'✓' if c.passed else '✗'} {c.id}: {c.summary}" for c in report.checks]
    evidenced = [c for c in report.criteria if c.addressed and c.evidence]
    if evidenced:
        lines += ["", "Acceptance criteria evidence:"]
        for c in evidenced:
            top = c.evidence[0]
            lines.append(f"- {quote(c.text)} ← {top.kind} {quote(top.text)} (similarity {top.score:.2f})")
    if loaded.ignored:
        lines += ["", "DoD items not checked automatically: " + "; ".join(quote(x) for x in loaded.ignored)]
    lines += ["", closing, "", f"_DoD source: {loaded.source}_"]
    return "\n".join(lines)


def evidence(
    report: DodReport, loaded: LoadedDod, project_gid: str, ready: bool, move: MovePlan
) -> dict[str, Any]:
    return {
        "passed": report.passed,
        "dod_source": loaded.source,
        "dod_checks": [c.id for c in loaded.config.checks],
        "dod_ignored": loaded.ignored,
        "checks": [c.model_dump(mode="json") for c in report.checks],
        "criteria": [c.model_dump(mode="json") for c in report.criteria],
        "findings": [f.model_dump(mode="json") for f in report.findings],
        "review_project": project_gid,
        "was_ready_for_review": ready,
        "move_notes": move.notes,
    }


def make_proposal(
    *,
    task: Task,
    workspace_gid: str,
    project_gid: str,
    report: DodReport,
    loaded: LoadedDod,
    move: MovePlan,
    text: Any,
    engine: str,
    prompts: list[PromptRef],
    ready: bool,
) -> Proposal:
    label = quote(task.name or task.gid)
    comment = with_footer(comment_text(report, loaded, text.headline, text.closing), engine)
    actions = [
        Action(
            kind=ActionKind.POST_COMMENT,
            target=task.gid,
            params={"text": comment},
            reason="DoD review result"
            if report.passed
            else f"list the {len(report.findings)} unmet DoD items",
        )
    ]
    if report.passed:
        actions += move.actions
        title = f"Approve moving {label} on (Definition of Done met)"
    else:
        title = f"DoD review of {label}: {len(report.findings)} unmet"
    summary = comment
    if report.passed and move.notes:
        summary += "\n\n" + "\n".join(f"_Note: {n}._" for n in move.notes)
    return Proposal(
        agent=QA_NAME,
        scope=Scope(workspace_gid=workspace_gid, project_gids=[project_gid]),
        title=title,
        subject=f"review:{task.gid}",
        summary_markdown=summary,
        evidence=evidence(report, loaded, project_gid, ready, move),
        actions=actions,
        model=engine,
        prompts=prompts,
    )
