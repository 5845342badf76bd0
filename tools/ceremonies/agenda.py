"""Ceremony agendas as plain text: planning, sprint review and retro.

Pure functions over numbers and names the agent already read: the planning agenda is the top of
the groomed backlog, the velocity forecast and capacity (tools/forecast via the forecast agent's
compute), and the open retro action items; the review agenda is the done work grouped by epic
(tools/retro/review_doc.build_review: the same grouping as the sprint review document); the retro
agenda is the sprint's numbers and the action items still open from earlier retros. Names from
Asana go into task notes as plain text (Asana shows notes as typed) and into the .ics escaped.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from pydantic import BaseModel, Field

from tools.ceremonies.times import Ceremony
from tools.retro.review_doc import SprintReview, items

TITLES: dict[Ceremony, str] = {"planning": "planning", "review": "sprint review", "retro": "retrospective"}


class BacklogLine(BaseModel):
    name: str
    points: float | None = None
    priority: str | None = None


class ActionLine(BaseModel):
    name: str
    owner: str | None = None
    due_on: str | None = None
    from_sprint: str | None = None


class Forecast(BaseModel):
    history: list[float] = Field(default_factory=list)  # completed points of the last ended sprints
    p50: float | None = None
    p85: float | None = None
    items_p50: float | None = None
    capacity: float | None = None


class Agenda(BaseModel):
    ceremony: Ceremony
    sprint: str
    title: str
    text: str

    def digest(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()[:10]


# Lines under a numbered section are indented to its text: read as markdown (the CLI, the console)
# they nest under it, so a numbered candidate list no longer renumbers the sections after it.
_SUB = "   "


def _pts(x: float | None) -> str:
    return "unestimated" if x is None else f"{x:g} pts"


def _when(start: datetime, end: datetime, timezone: str) -> str:
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(timezone)
    a, b = start.astimezone(zone), end.astimezone(zone)
    return f"{a:%a %Y-%m-%d %H:%M}–{b:%H:%M} ({timezone})"


def _actions(items: list[ActionLine]) -> list[str]:
    if not items:
        return [_SUB + "- No open action items from earlier retros."]
    out = []
    for a in items:
        bits = [
            b for b in (f"owner {a.owner}" if a.owner else "", f"due {a.due_on}" if a.due_on else "") if b
        ]
        src = f" (from the {a.from_sprint} retro)" if a.from_sprint else ""
        out.append(f"{_SUB}- {a.name}{src}" + (f" — {', '.join(bits)}" if bits else ""))
    return out


def _head(
    ceremony: Ceremony, sprint: str, start: datetime, end: datetime, timezone: str
) -> tuple[str, list[str]]:
    title = f"{sprint} {TITLES[ceremony]}"
    return title, [f"{title} — {_when(start, end, timezone)}", ""]


def planning_agenda(
    sprint: str,
    start: datetime,
    end: datetime,
    timezone: str,
    forecast: Forecast,
    backlog: list[BacklogLine],
    actions: list[ActionLine],
) -> Agenda:
    title, lines = _head("planning", sprint, start, end, timezone)
    lines.append("1. Where we stand")
    if forecast.history:
        lines.append(
            _SUB
            + "- Completed points, last sprints (oldest first): "
            + ", ".join(f"{x:g}" for x in forecast.history)
        )
    if forecast.p50 is not None:
        p85 = f", P85 {forecast.p85:g}" if forecast.p85 is not None else ""
        lines.append(f"{_SUB}- Velocity forecast for {sprint}: P50 {forecast.p50:g} points{p85}")
    if forecast.items_p50 is not None:
        lines.append(f"{_SUB}- Throughput forecast: P50 {forecast.items_p50:g} items")
    if forecast.capacity is not None:
        lines.append(f"{_SUB}- Team capacity: {forecast.capacity:g} points")
    if len(lines) == 3:
        lines.append(_SUB + "- No ended sprint yet: no velocity to plan against.")
    lines += ["", f"2. Candidates from the groomed backlog (top {len(backlog)}, in the backlog's order)"]
    lines += [
        f"{_SUB}{i}. {b.name} — {_pts(b.points)}" + (f", {b.priority}" if b.priority else "")
        for i, b in enumerate(backlog, 1)
    ] or [_SUB + "- The groomed backlog is empty: refine items first."]
    unest = sum(1 for b in backlog if b.points is None)
    if unest:
        lines.append(f"{_SUB}- {unest} of them still need an estimate.")
    lines += ["", "3. Open action items from earlier retros", *_actions(actions)]
    lines += ["", "4. Agree the sprint goal and the commitment"]
    return Agenda(ceremony="planning", sprint=sprint, title=title, text="\n".join(lines))


def review_agenda(sprint: str, start: datetime, end: datetime, timezone: str, review: SprintReview) -> Agenda:
    title, lines = _head("review", sprint, start, end, timezone)
    n = review.numbers
    lines.append(
        f"1. The sprint in numbers: {n['done_items']:g} of {n['scope_items']:g} items done "
        f"({n['done_points']:g} of {n['scope_points']:g} points)"
    )
    lines += ["", "2. Demos, by epic"]
    if not review.delivered:
        lines.append(_SUB + "- Nothing is done yet.")
    for g in review.delivered:
        lines.append(f"{_SUB}- {g.name} ({items(len(g.tasks))}, {g.points:g} pts)")
        lines += [f"{_SUB}  - {t.name}" + (f" — {t.assignee}" if t.assignee else "") for t in g.tasks]
    lines += ["", "3. Not done yet"]
    lines += [f"{_SUB}- {s.task.name}: {s.reasons[0]}" for s in review.slipped] or [
        _SUB + "- Everything is done."
    ]
    lines += ["", "4. Feedback from the stakeholders and next steps for the backlog"]
    return Agenda(ceremony="review", sprint=sprint, title=title, text="\n".join(lines))


def retro_agenda(
    sprint: str,
    start: datetime,
    end: datetime,
    timezone: str,
    review: SprintReview,
    actions: list[ActionLine],
) -> Agenda:
    title, lines = _head("retro", sprint, start, end, timezone)
    n = review.numbers
    lines.append("1. The sprint in numbers")
    lines.append(f"{_SUB}- Done: {n['done_items']:g} items, {n['done_points']:g} points")
    lines.append(f"{_SUB}- Not done: {n['slipped_items']:g} items, {n['slipped_points']:g} points")
    blocked = [s.task.name for s in review.slipped if s.task.still_blocked or s.task.blocked_days]
    if blocked:
        lines.append(_SUB + "- Blocked during the sprint: " + ", ".join(blocked[:5]))
    lines += ["", "2. Action items from earlier retros: done, or still open?", *_actions(actions)]
    lines += ["", "3. What went well", "", "4. What did not go well", "", "5. Actions for the next sprint"]
    return Agenda(ceremony="retro", sprint=sprint, title=title, text="\n".join(lines))
