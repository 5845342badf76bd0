"""Turn a retro analysis into its Proposal.

Writes (policy classes from the default policy, unchanged):
- a status update on the sprint project with the numbers and the sprint-review draft (auto:
  the team sees the retro at once);
- a "Sprint Retro — <sprint>" task in the sprint project holding the full notes (what went well,
  what didn't, numbers, themes, proposed actions, review draft): create_task, needs approval; when
  the sprint already has one (a re-run), the notes go as a comment on it instead (auto);
- one task per proposed action in "Process Improvement", with assignee and due date (needs approval),
  its `facts` the item's normalised name and the sprint (a re-run of the same retro is a repeat);
- for a proposed action that nearly duplicates an open action item (tools/retro/dedupe.py), no new
  task: the notes link the open one and a comment on it says it came up again (auto).
"""

from __future__ import annotations

from typing import Any

from agents.proposal import Action, ActionKind, Proposal, Scope
from agents.retro.analysis import ProposedAction, RetroAnalysis
from agents.retro.inputs import RETRO_TASK_PREFIX, RetroInputs
from tools.llm.labels import with_footer, written_by
from tools.llm.offline import plural
from tools.retro.dedupe import normalize_title


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.0%}"


def task_link(inputs: RetroInputs, task_gid: str) -> str:
    project = inputs.process_project.gid if inputs.process_project is not None else "0"
    return f"https://app.asana.com/0/{project}/{task_gid}"


def action_line(inputs: RetroInputs, x: ProposedAction, names: dict[str, str]) -> str:
    if x.existing is not None:
        due = f", due {x.existing.due_on.isoformat()}" if x.existing.due_on else ""
        who = names.get(x.existing.assignee_gid or "", "unassigned")
        return (
            f"- {x.title} — already open as “{x.existing.name}” ({task_link(inputs, x.existing.gid)}; "
            f"owner {who}{due}"
            + (f", from the {x.existing.from_sprint} retro" if x.existing.from_sprint else "")
            + f"): linked, not created again ({x.why})"
        )
    who = names.get(x.owner_gid or "", "unassigned")
    return f"- {x.title} — owner {who}, due {x.due_on.isoformat()} ({x.why})"


def numbers_markdown(a: RetroAnalysis) -> list[str]:
    c, acc, m = a.commitment, a.accuracy, a.mood
    lines = [
        f"- Committed at start: {c.committed_items} items, {c.committed_points:g} points; "
        f"added mid-sprint: {c.added_items} items, {c.added_points:g} points.",
        f"- Completed: {c.completed_items} items, {c.completed_points:g} points "
        f"({_pct(c.completion_rate_points)} of {c.scope_points:g} scope points).",
        f"- Carry-over: {c.carry_over_items} items, {c.carry_over_points:g} points.",
    ]
    if c.unestimated_gids:
        lines.append(f"- Unestimated items: {len(c.unestimated_gids)}.")
    if a.cycles:
        days = sorted(x.days for x in a.cycles)
        lines.append(
            f"- Cycle time (In Progress → done): median {days[len(days) // 2]:g} days over {len(days)} items."
        )
    if acc.measured:
        corr = "n/a" if acc.rank_correlation is None else f"{acc.rank_correlation:+.2f}"
        lines.append(
            f"- Estimation: {acc.days_per_point:g} days/point; points vs cycle time rank corr. {corr}."
        )
        lines += [
            f"  - worst miss: {x.name} ({x.points:g} pts, {x.days:g} days vs ~{x.expected_days:g} expected)"
            for x in acc.worst_misses
        ]
    late = [d for d in a.deviations if d.kind == "late"]
    moved = [d for d in a.deviations if d.kind == "due_moved"]
    overdue = [d for d in a.deviations if d.kind == "overdue_open"]
    lines.append(
        f"- Timeline: {len(moved)} due dates moved, {len(late)} late completions, {len(overdue)} overdue."
    )
    if a.blockers:
        total = sum(b.days for b in a.blockers)
        lines.append(f"- Blockers: {plural(len(a.blockers), 'blocked period')}, {total:.1f} days in total.")
        lines += [
            f"  - {b.name}: {b.days:g} days" + (" (still blocked)" if b.until is None else "")
            for b in a.blockers[:3]
        ]
    else:
        lines.append("- Blockers: none recorded.")
    if m.comments:
        lines.append(
            f"- Comment sentiment ({m.engine} engine): {m.positive} positive, {m.neutral} neutral, "
            f"{m.negative} negative "
            f"(mean {m.mean_score:+.2f}); trend {m.trend}"
            + (
                f" (first half {m.first_half:+.2f}, second half {m.second_half:+.2f})."
                if m.first_half is not None and m.second_half is not None
                else "."
            )
        )
    else:
        lines.append("- Comment sentiment: no comments were written this sprint.")
    if a.sentiment_warning:
        lines.append(f"  - Note: {a.sentiment_warning}.")
    return lines


def retro_markdown(
    inputs: RetroInputs, a: RetroAnalysis, text: Any, engine: str, names: dict[str, str]
) -> str:
    w = inputs.window
    lines = [
        f"# {w.name} retrospective ({w.start_on.isoformat()} → {w.end_on.isoformat()})",
        "",
        "## What went well",
    ]
    lines += [f"- {x}" for x in text.went_well] or ["- Nothing to report."]
    lines += ["", "## What didn't go well"]
    lines += [f"- {x}" for x in text.did_not_go_well] or ["- Nothing stood out."]
    lines += ["", "## Numbers", *numbers_markdown(a), "", "## Themes"]
    if a.themes:
        for t in a.themes:
            tag = f" — recurring (also in {', '.join(t.seen_in)})" if t.recurring else ""
            lines.append(f"- **{t.name}** ({t.kind}, {t.count} mentions on {t.tasks} tasks){tag}")
            lines += [f"  > {q}" for q in t.quotes]
    else:
        lines.append("- No recurring theme (too few comments and task texts matched one).")
    lines += ["", "## Proposed actions"]
    if a.actions:
        lines += [action_line(inputs, x, names) for x in a.actions]
    else:
        lines.append("- None proposed: no problem stood out in the data.")
    lines += ["", "## Sprint review draft", text.review_narrative, ""]
    lines.append(f"_Written by {written_by(engine)}; numbers computed by sprintpilot's retro agent._")
    return "\n".join(lines)


def build_actions(
    inputs: RetroInputs, a: RetroAnalysis, notes: str, text: Any, engine: str = "offline"
) -> list[Action]:
    w, project = inputs.window, inputs.project
    c = a.commitment
    status_text = "\n".join(
        ["## Numbers", *numbers_markdown(a), "", "## Sprint review draft", text.review_narrative]
    )
    status_text = with_footer(status_text, engine)
    rate = c.completion_rate_points
    status_type = "on_track" if rate is None or rate >= 0.8 else "at_risk" if rate >= 0.5 else "off_track"
    actions = [
        Action(
            kind=ActionKind.POST_STATUS_UPDATE,
            target=project.gid,
            params={
                "title": f"{w.name} retro and review draft",
                "text": status_text,
                "status_type": status_type,
            },
            reason="retro numbers and the sprint-review narrative",
        )
    ]
    if inputs.existing_retro_gid:
        actions.append(
            Action(
                kind=ActionKind.POST_COMMENT,
                target=inputs.existing_retro_gid,
                params={"text": notes},
                reason="updated retro notes on the existing Sprint Retro task",
            )
        )
    else:
        actions.append(
            Action(
                kind=ActionKind.CREATE_TASK,
                ref="retro_task",
                params={
                    "name": f"{RETRO_TASK_PREFIX} — {w.name}",
                    "projects": [project.gid],
                    "notes": notes,
                    "due_on": w.end_on.isoformat(),
                },
                reason=f"retro notes of {w.name}",
            )
        )
    if inputs.process_project is not None:
        for i, x in enumerate(a.actions):
            facts = {"retro_item": normalize_title(x.title), "sprint": project.gid}
            if x.existing is not None and x.existing.from_sprint == w.name:
                continue  # this retro created it (a re-run): linked in the notes, nothing to add
            if x.existing is not None:
                actions.append(
                    Action(
                        kind=ActionKind.POST_COMMENT,
                        target=x.existing.gid,
                        params={"text": f"This came up again in the {w.name} retro: {x.why}."},
                        facts={**facts, "linked_to": x.existing.gid},
                        reason=f"action item already open ({x.existing.name}): noted, not duplicated",
                    )
                )
                continue
            params: dict[str, Any] = {
                "name": x.title,
                "projects": [inputs.process_project.gid],
                "notes": f"From the {w.name} retro: {x.why}.",
                "due_on": x.due_on.isoformat(),
            }
            if x.owner_gid:
                params["assignee"] = x.owner_gid
            actions.append(
                Action(
                    kind=ActionKind.CREATE_TASK,
                    ref=f"retro_action_{i}",
                    params=params,
                    facts=facts,
                    reason=f"action item: {x.why}",
                )
            )
    return actions


def evidence(inputs: RetroInputs, a: RetroAnalysis) -> dict[str, Any]:
    return {
        "sprint": inputs.window.model_dump(mode="json"),
        "commitment": a.commitment.model_dump(mode="json"),
        "cycle_times": [x.model_dump(mode="json") for x in a.cycles],
        "estimation": a.accuracy.model_dump(mode="json"),
        "deviations": [x.model_dump(mode="json") for x in a.deviations],
        "blockers": [x.model_dump(mode="json") for x in a.blockers],
        "mood": a.mood.model_dump(mode="json"),
        "sentiment_engine": {"name": a.mood.engine, "warning": a.sentiment_warning},
        "themes": [t.model_dump(mode="json") for t in a.themes],
        "previous": [p.model_dump(mode="json") for p in inputs.previous]
        + [{"name": n, "source": "comments"} for n in inputs.previous_texts],
        "process_project_missing": inputs.process_project is None,
        "next_sprint": inputs.next_sprint.model_dump(mode="json") if inputs.next_sprint else None,
        "linked_items": [
            {
                "proposed": x.title,
                "open_task": x.existing.gid,
                "name": x.existing.name,
                "similarity": x.similarity,
            }
            for x in a.actions
            if x.existing is not None
        ],
    }


def make_proposal(
    inputs: RetroInputs, a: RetroAnalysis, text: Any, engine: str, names: dict[str, str], prompts: list[Any]
) -> Proposal:
    notes = retro_markdown(inputs, a, text, engine, names)
    return Proposal(
        agent="retro",
        scope=Scope(
            workspace_gid=inputs.workspace_gid,
            project_gids=[inputs.project.gid]
            + ([inputs.process_project.gid] if inputs.process_project else []),
        ),
        title=f"Approve {inputs.window.name} retro and action items",
        subject=f"retro:{inputs.project.gid}",
        summary_markdown=notes,
        evidence=evidence(inputs, a),
        actions=build_actions(inputs, a, notes, text, engine),
        model=engine,
        prompts=prompts,
    )
