"""Compute the stand-up from its inputs with tools.standup (pure; no Asana calls here)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from pydantic import BaseModel, ConfigDict

from agents.standup.inputs import StandupInputs
from tools.standup.activity import PersonProgress, changes_in_window, progress_by_person
from tools.standup.blockers import Blocker, find_blockers
from tools.standup.burndown import Burndown, ScopeChange, compute_burndown
from tools.standup.calendar import working_days
from tools.standup.models import Change, ChangeKind
from tools.standup.risk import AtRisk, Pace, find_at_risk

DEFAULT_SPRINT_DAYS = 14


class Standup(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    changes: list[Change]
    people: list[PersonProgress]
    blockers: list[Blocker]
    at_risk: list[AtRisk]
    pace: Pace
    burndown: Burndown
    window: tuple[date, date]


def sprint_window(inputs: StandupInputs) -> tuple[date, date]:
    """The project's start/due dates; without them, two weeks ending on its due date or from today."""
    p = inputs.project
    if p.start_on and p.due_on and p.due_on >= p.start_on:
        return p.start_on, p.due_on
    if p.due_on:
        return p.due_on - timedelta(days=DEFAULT_SPRINT_DAYS - 1), p.due_on
    start = p.start_on or inputs.now.date()
    return start, start + timedelta(days=DEFAULT_SPRINT_DAYS - 1)


def _scope_signals(changes: list[Change]) -> tuple[dict[str, datetime], list[ScopeChange]]:
    joined: dict[str, datetime] = {}
    extra: list[ScopeChange] = []
    for c in changes:
        if c.kind == ChangeKind.ADDED:
            joined[c.task_gid] = c.at
        elif c.kind == ChangeKind.POINTS:
            try:
                delta = float(c.new or 0) - float(c.old or 0)
            except ValueError:
                continue
            extra.append(ScopeChange(day=c.at.date(), task_gid=c.task_gid, points=delta, kind="points"))
    return joined, extra


def compute_standup(
    inputs: StandupInputs, *, stale_days: int, due_soon_days: int, own_comment_tag: str | None = None
) -> Standup:
    changes = changes_in_window(inputs.stories, inputs.project.gid, inputs.since, inputs.now)
    if own_comment_tag:
        # The agent's own nudges from earlier stand-ups are not team activity.
        changes = [
            c
            for c in changes
            if not (c.kind == ChangeKind.COMMENT and (c.text or "").lstrip().startswith(own_comment_tag))
        ]
    start, end = sprint_window(inputs)
    today = inputs.now.date()
    joined, extra = _scope_signals(changes)
    # Tasks that joined mid-sprint are only known from stories read this time; earlier ones fall back
    # to their creation time (documented limitation of reading stories incrementally).
    if inputs.now.date() >= start:
        joined = {g: t for g, t in joined.items() if t.date() >= start}
    bd = compute_burndown(inputs.tasks, start, end, inputs.now, joined=joined, extra_changes=extra)
    blockers = find_blockers(inputs.tasks, changes, today, stale_days=stale_days)
    days = working_days(start, end)
    at_risk, pace = find_at_risk(
        inputs.tasks, blockers, today, days, bd.initial_scope or bd.scope_now, due_soon_days=due_soon_days
    )
    people = progress_by_person(inputs.tasks, changes, inputs.since)
    return Standup(
        changes=changes,
        people=people,
        blockers=blockers,
        at_risk=at_risk,
        pace=pace,
        burndown=bd,
        window=(start, end),
    )
