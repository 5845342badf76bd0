"""Turn a computed stand-up into its Proposal: status update, chart, Impediments, nudges (all auto)."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from agents.proposal import Action, ActionKind, Proposal, Scope
from agents.standup.compute import Standup
from agents.standup.inputs import StandupInputs, standup_title
from tools.asana.field_names import IMPEDIMENTS
from tools.llm.labels import written_by
from tools.standup.nudges import Nudge

IMPEDIMENT_PREFIX = "[stand-up"
CHART_FILENAME = "burndown-{day}.png"


def impediment_text(day: str, reasons: list[str]) -> str:
    return f"{IMPEDIMENT_PREFIX} {day}] " + "; ".join(reasons)


def summary_markdown(st: Standup, inputs: StandupInputs, narrative: Any, engine: str) -> str:
    by_gid = {t.gid: t for t in inputs.tasks}
    day = inputs.now.date().isoformat()
    bd = st.burndown
    project = inputs.project.name or inputs.project.gid
    lines = [
        f"## {standup_title(day)} · {project}",
        "",
        f"**{narrative.headline}**",
        "",
        narrative.summary,
        "",
    ]
    if not inputs.tasks:
        lines += ["_The sprint project has no tasks yet: nothing to report._", ""]
    else:
        lines += [
            f"**Burndown:** {bd.remaining_now:g} of {bd.scope_now:g} points remaining, "
            f"ideal {bd.ideal_now:.1f} "
            f"after {st.pace.days_elapsed} of {len(bd.days)} working days ({st.window[0]} → {st.window[1]}); "
            f"burndown {bd.status_type} (gap {bd.gap:+.0%}).",
            f"**Status:** {st.status_type}: the worse of the burndown's and that of the "
            f"{st.flagged_share:.0%} of the sprint open and at risk or blocked (on track up to 10 %, "
            "at risk up to 25 %).",
        ]
        lines += [f"- {a}" for a in bd.anomalies]
        added = [c for c in bd.scope_changes if c.kind == "added"]
        if added:
            lines.append(
                f"- Scope changes: {len(added)} task(s) added mid-sprint "
                f"(+{sum(c.points for c in added):g} points)."
            )
        if bd.unestimated:
            lines.append(f"- {bd.unestimated} task(s) have no Story Points and count as 0.")
        lines += ["", "**Progress by person** (done since last stand-up / in progress / next)"]
        for p in st.people:

            def names_of(gids: list[str]) -> str:
                return ", ".join(by_gid[g].name for g in gids) or "—"

            lines.append(
                f"- {p.name}: done {names_of(p.done)}; in progress {names_of(p.in_progress)}; "
                f"next {names_of(p.next)}"
            )
        lines += ["", f"**Blockers** ({len(st.blockers)})"]
        lines += [f"- {by_gid[b.task_gid].name}: {'; '.join(b.reasons)}" for b in st.blockers] or ["- none"]
        lines += ["", f"**At risk** ({len(st.at_risk)})"]
        lines += [f"- {by_gid[r.task_gid].name}: {'; '.join(r.reasons)}" for r in st.at_risk] or ["- none"]
        if bd.points:
            lines += ["", "| day | scope | remaining | ideal |", "|---|---:|---:|---:|"]
            lines += [f"| {p.day} | {p.scope:g} | {p.remaining:g} | {p.ideal:.1f} |" for p in bd.points]
    lines += [
        "",
        f"_Since {inputs.since.isoformat(timespec='minutes')}: {len(st.changes)} change(s) on "
        f"{len(inputs.modified_gids)} modified task(s). Written by {written_by(engine)}; numbers computed "
        "by sprintpilot's stand-up._",
    ]
    return "\n".join(lines)


def build_actions(
    st: Standup,
    inputs: StandupInputs,
    summary: str,
    nudges: list[tuple[Nudge, str]],
    chart_png: bytes | None,
) -> list[Action]:
    day = inputs.now.date().isoformat()
    project = inputs.project.gid
    actions = [
        Action(
            kind=ActionKind.POST_STATUS_UPDATE,
            target=project,
            params={"title": standup_title(day), "text": summary, "status_type": st.status_type},
            reason=f"daily stand-up ({st.status_type}: burndown {st.burndown.status_type}, "
            f"{st.flagged_share:.0%} of the sprint at risk or blocked)",
        )
    ]
    if chart_png is not None:
        actions.append(
            Action(
                kind=ActionKind.ATTACH_FILE,
                target=project,
                params={
                    "filename": CHART_FILENAME.format(day=day),
                    "content_base64": base64.b64encode(chart_png).decode(),
                    "content_type": "image/png",
                    "parent_type": "project",
                },
                reason="burndown chart of the stand-up",
            )
        )
    by_gid = {t.gid: t for t in inputs.tasks}
    blocked = {b.task_gid: b for b in st.blockers}
    for t in inputs.tasks:
        if not t.has_impediments_field:
            continue
        if t.gid in blocked:
            text = impediment_text(day, blocked[t.gid].reasons)[:1000]
            value: str | None = text
            # Same reasons as already recorded (any day) → leave the field alone.
            if t.impediments and t.impediments.split("] ", 1)[-1] == text.split("] ", 1)[-1]:
                continue
            why = f"{t.name}: impediments recorded"
        elif t.impediments and t.impediments.startswith(IMPEDIMENT_PREFIX) and not t.completed:
            value, why = None, f"{t.name}: no longer blocked, impediments cleared"
        else:
            continue
        actions.append(
            Action(
                kind=ActionKind.SET_CUSTOM_FIELD,
                target=t.gid,
                params={"field": IMPEDIMENTS, "value": value, "project": project},
                before={IMPEDIMENTS: t.impediments},
                after={IMPEDIMENTS: value},
                reason=why,
            )
        )
    for nudge, text in nudges:
        others = len(nudge.items) - 1
        actions.append(
            Action(
                kind=ActionKind.POST_COMMENT,
                target=nudge.task_gid,
                params={"text": text},
                # One nudge per person per local day, whichever task or project it lands on.
                facts=nudge.facts(inputs.now.date()),
                reason=f"{by_gid[nudge.task_gid].name}: nudge to its owner {nudge.person_name}"
                + (f" (and {others} more of their flagged tasks)" if others else ""),
            )
        )
    return actions


def evidence(
    st: Standup,
    inputs: StandupInputs,
    chart_png: bytes | None,
    nudged: list[tuple[Nudge, str]],
    headline: str = "",
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "date": inputs.now.date().isoformat(),
        "since": inputs.since.isoformat(),
        "previous_standup": inputs.previous_standup.gid if inputs.previous_standup else None,
        "tasks_read": len(inputs.tasks),
        "modified_tasks": len(inputs.modified_gids),
        "changes": len(st.changes),
        "people": [p.model_dump(mode="json") for p in st.people],
        "blockers": [b.model_dump(mode="json") for b in st.blockers],
        "at_risk": [r.model_dump(mode="json") for r in st.at_risk],
        "nudged": [
            {"person": n.person_gid, "task": n.task_gid, "items": [i.task_gid for i in n.items], "text": text}
            for n, text in nudged
        ],
        "pace": st.pace.model_dump(mode="json"),
        "burndown": st.burndown.model_dump(mode="json"),
        "open_points": st.open_points,
        "scope": {"points": st.burndown.scope_now, "tasks": st.scope_tasks},
        "flagged_share": st.flagged_share,
        "status_type": st.status_type,
        "headline": headline,
    }
    if chart_png is not None:
        out["burndown_chart"] = {
            "filename": CHART_FILENAME.format(day=inputs.now.date().isoformat()),
            "bytes": len(chart_png),
            "sha256": hashlib.sha256(chart_png).hexdigest(),
            "png_base64": base64.b64encode(chart_png).decode(),
        }
    return out


def make_proposal(
    st: Standup,
    inputs: StandupInputs,
    narrative: Any,
    engine: str,
    nudges: list[tuple[Nudge, str]],
    chart_png: bytes | None,
    prompts: list[Any],
) -> Proposal:
    summary = summary_markdown(st, inputs, narrative, engine)
    attach = chart_png
    return Proposal(
        agent="standup",
        scope=Scope(workspace_gid=inputs.workspace_gid, project_gids=[inputs.project.gid]),
        title=standup_title(inputs.now.date().isoformat())
        + f" · {inputs.project.name or inputs.project.gid}",
        subject=f"standup:{inputs.project.gid}:{inputs.now.date().isoformat()}",
        summary_markdown=summary,
        evidence=evidence(st, inputs, chart_png, nudges, narrative.headline),
        actions=build_actions(st, inputs, summary, nudges, attach),
        model=engine,
        prompts=prompts,
    )


def already_done_proposal(inputs: StandupInputs) -> Proposal:
    """Today's stand-up is already on the project: propose nothing (one stand-up per project per day)."""
    day = inputs.now.date().isoformat()
    done = inputs.today_standup
    return Proposal(
        agent="standup",
        scope=Scope(workspace_gid=inputs.workspace_gid, project_gids=[inputs.project.gid]),
        title=f"{standup_title(day)} already posted",
        summary_markdown=(
            f"Today's stand-up for {inputs.project.name or inputs.project.gid} was already posted"
            + (f" (status update {done.gid})" if done else "")
            + "; nothing new is written."
        ),
        evidence={"date": day, "already_done": True, "status_update_gid": done.gid if done else None},
        actions=[],
    )
