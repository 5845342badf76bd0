"""Compute the stand-up from its inputs with tools.standup (pure; no Asana calls here)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta

from pydantic import BaseModel, ConfigDict

from agents.standup.inputs import StandupInputs
from tools.standup.activity import PersonProgress, changes_in_window, progress_by_person
from tools.standup.blockers import Blocker, find_blockers
from tools.standup.burndown import Burndown, ScopeChange, compute_burndown
from tools.standup.calendar import working_days
from tools.standup.capacity import capacity_by_gid, committed_capacity, parse_plan_capacity
from tools.standup.coherence import flagged_share, overall_status
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
    # Open task gid → points, and the sprint's scope (points, tasks): the flagged share's parts.
    open_points: dict[str, float | None]
    scope_tasks: int
    # Share of the sprint open and at risk or blocked, and the status it gives with the burndown's
    # (tools/standup/coherence.py): the status update's type and the headline's words.
    flagged_share: float
    status_type: str


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
    inputs: StandupInputs,
    *,
    stale_days: int,
    due_soon_days: int,
    own_comment_tag: str | None = None,
    capacity: Mapping[str, float] | None = None,
) -> Standup:
    """`capacity`: person gid → points the plan gave them for the sprint, when the caller knows it;
    else as the plan's status update states it; else what they were committed at the sprint's
    start (tools/standup/capacity.py)."""
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
    stated = capacity_by_gid(parse_plan_capacity(inputs.plan_text), inputs.tasks)
    given = {**stated, **(capacity or {})}
    per_person = {**committed_capacity(inputs.tasks, bd.committed), **given}
    at_risk, pace = find_at_risk(
        inputs.tasks, blockers, today, days, per_person, due_soon_days=due_soon_days, given=given
    )
    people = progress_by_person(inputs.tasks, changes, inputs.since)
    open_points = {t.gid: t.points for t in inputs.tasks if not t.completed}
    start_dt = datetime.combine(start, datetime.min.time(), tzinfo=inputs.now.tzinfo)
    # The burndown's scope: every task but those finished before the sprint started.
    scope_tasks = sum(
        1
        for t in inputs.tasks
        if not (t.completed and t.completed_at is not None and t.completed_at < start_dt)
    )
    share = flagged_share(
        open_points,
        {r.task_gid for r in at_risk} | {b.task_gid for b in blockers},
        scope_points=bd.scope_now,
        scope_tasks=scope_tasks,
    )
    return Standup(
        changes=changes,
        people=people,
        blockers=blockers,
        at_risk=at_risk,
        pace=pace,
        burndown=bd,
        window=(start, end),
        open_points=open_points,
        scope_tasks=scope_tasks,
        flagged_share=share,
        status_type=overall_status(bd.status_type, share),
    )
