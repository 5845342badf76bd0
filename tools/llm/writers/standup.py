"""Offline writers for the stand-up prompts: templated sentences from the computed stand-up."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from tools.llm.offline import clean, join_names, number, plural, register


class _Narrative(BaseModel):
    headline: str
    summary: str


class _Nudge(BaseModel):
    text: str


_STATUS_WORDS = {"on_track": "on track", "at_risk": "at risk", "off_track": "off track"}


@register("standup_summary")
def standup_summary(v: dict[str, Any]) -> _Narrative:
    project = clean(v.get("project_name") or "The sprint", 60)
    status = _STATUS_WORDS.get(str(v.get("status_type")), str(v.get("status_type") or "on track"))
    scope = float(v.get("scope_points") or 0)
    remaining = float(v.get("remaining_points") or 0)
    done = int(v.get("done_count") or 0)
    changes = int(v.get("change_count") or 0)
    blockers = list(v.get("blockers") or [])
    at_risk = list(v.get("at_risk") or [])
    people = list(v.get("people") or [])
    if not people and scope == 0:
        return _Narrative(
            headline=f"{project} has no tasks yet.",
            summary="The sprint project holds no tasks, so there is no progress, blocker or risk to report.",
        )
    headline = f"{project} is {status}: {number(remaining)} of {number(scope)} points remaining."
    sentences = []
    if changes == 0:
        sentences.append("Nothing moved since the last stand-up.")
    else:
        finishers = [clean(p.get("name"), 40) for p in people if p.get("done")]
        who = f" ({join_names(finishers)})" if finishers else ""
        sentences.append(
            f"Since the last stand-up: {plural(changes, 'change')}, {plural(done, 'task')} done{who}."
        )
    if blockers:
        names = [clean(b.get("task"), 50) for b in blockers[:3]]
        verb = "needs" if len(blockers) == 1 else "need"
        sentences.append(f"{plural(len(blockers), 'task')} {verb} help to move: {join_names(names)}.")
    if at_risk:
        names = [clean(r.get("task"), 50) for r in at_risk[:3]]
        sentences.append(f"{plural(len(at_risk), 'task')} may not finish this sprint: {join_names(names)}.")
    anomalies = list(v.get("anomalies") or [])
    if anomalies:
        sentences.append(str(anomalies[0]))
    elif not blockers and not at_risk:
        sentences.append("No blockers or at-risk tasks today.")
    return _Narrative(headline=headline, summary=" ".join(sentences))


@register("standup_nudge")
def standup_nudge(v: dict[str, Any]) -> _Nudge:
    """One message for all of a person's flagged tasks (code appends the list with links)."""
    owner = clean(v.get("owner_name") or "there", 40)
    items = [i for i in (v.get("items") or []) if isinstance(i, dict)]
    first = items[0] if items else {}
    task = clean(first.get("task") or "this task", 80)
    reasons = [clean(r, 120) for r in (first.get("reasons") or [])]
    why = "; ".join(reasons) if reasons else "it looks unlikely to finish in time"
    days = int(v.get("days_left") or 0)
    left = f"with {plural(days, 'working day')} left in the sprint" if days else "as the sprint ends"
    if len(items) <= 1:
        lead = f'"{task}" needs attention {left} ({why}).'
        ask = "Is anything blocking it, or should we split it or move it to the next sprint?"
    else:
        lead = (
            f"{len(items)} of your tasks need attention {left}, most urgently "
            f'"{task}" ({why}); all of them are listed below.'
        )
        ask = "Is anything blocking them, or should we split some or move them to the next sprint?"
    return _Nudge(text=f"Hi {owner}, a heads-up from the daily stand-up: {lead} {ask}")
