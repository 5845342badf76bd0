"""The replay's extra agent runs: stand-up and dependency scan at mid-sprint, retro at the end.

Each runs through the real supervisor graph (`graphs.runner.start_run`) with the harness's ports;
auto actions apply inside the sandbox, approval-class actions wait at the gate and are never
approved. This module also records the system stories Asana writes when a task joins the sprint
project or changes section there (the world's direct store inserts write none), so the retro can
tell committed from added items and the stand-up sees the team's moves, as in a real workspace.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from agents.standup.threads import standup_thread_id
from evals.recorded.models import RecordedSprint
from evals.replay.observations import (
    OpenTask,
    RetroNumbers,
    RetroObservation,
    RetroTruth,
    RiskObservation,
    StandupObservation,
)
from evals.replay.ports import ReplayRepo
from evals.replay.world import World, apply_event, as_number, members_of
from graphs.context import RunContext
from graphs.runner import RunOutcome, start_run
from tools.asana.field_names import STORY_POINTS

IN_PROGRESS = "In Progress"


def mid_sprint_day(rs: RecordedSprint) -> int:
    """The day at 50% of the sprint; the agents run that morning, before its events."""
    return rs.length_days // 2


def _section_in(world: World, gid: str | None, project: str | None) -> str | None:
    if gid is None or project is None or gid not in world.store.tasks:
        return None
    m = next((m for m in world.store.tasks[gid].memberships if m["project"] == project), None)
    return None if m is None else m["section"]


def apply_with_stories(world: World, event: Any, start: date) -> str | None:
    """`apply_event`, plus the added_to_project / section_changed story of a sprint-project move."""
    sprint = world.sprint_project
    known = world.tasks.get(event.task)
    before = _section_in(world, known, sprint)
    added = apply_event(world, event, start)
    gid = known or added
    after = _section_in(world, gid, sprint)
    if sprint is None or gid is None or after is None or after == before:
        return added
    store = world.store
    name = store.projects[sprint].name
    if before is None:
        store.add_story(
            gid,
            text=f"added to {name}",
            type="system",
            resource_subtype="added_to_project",
            fields={"project": sprint},
        )
    else:
        old, new = store.sections[before].name, store.sections[after].name
        store.add_story(
            gid,
            text=f'moved this task from "{old}" to "{new}" in {name}',
            type="system",
            resource_subtype="section_changed",
            fields={"old_section": before, "new_section": after, "project": sprint},
        )
    return added


def _points(world: World, gid: str) -> float | None:
    return as_number(world.store.tasks[gid].custom_fields.get(world.fields[STORY_POINTS]))


def open_tasks(world: World, rs: RecordedSprint) -> list[OpenTask]:
    """Open tasks of the sprint project now, each with whether it really ended not completed."""
    assert world.sprint_project is not None
    sprint = world.sprint_project
    in_progress = world.sections[sprint].get(IN_PROGRESS)
    done = set(rs.outcome.completed_items)
    out = []
    for gid in world.store.project_tasks(sprint):
        if world.store.tasks[gid].completed or gid not in world.keys:
            continue
        key = world.keys[gid]
        out.append(
            OpenTask(
                task=key,
                points=_points(world, gid),
                started=_section_in(world, gid, sprint) == in_progress,
                failed=key not in done,
            )
        )
    return sorted(out, key=lambda t: t.task)


def _error(outcome: RunOutcome, what: str) -> str:
    return str((outcome.report or {}).get("error") or f"{what} made no proposal")


def run_standup(
    graph: Any, ctx: RunContext, repo: ReplayRepo, world: World, day: int, today: date
) -> StandupObservation:
    assert world.sprint_project is not None
    thread = standup_thread_id(world.sprint_project, today)
    # No chart and no nudges: neither changes the at-risk list, both cost time.
    args = {"project": world.sprint_project, "workspace": world.workspace, "nudge": False, "chart": False}
    outcome = start_run(graph, ctx, thread, {"agent": "standup", "args": args, "trigger": "eval"})
    proposal = repo.proposal_of(thread)
    if proposal is None:
        return StandupObservation(status=outcome.status, error=_error(outcome, "stand-up"), day=day)
    flagged = {
        world.keys[r["task_gid"]]: sorted(r.get("kinds") or [])
        for r in proposal.evidence.get("at_risk") or []
        if r.get("task_gid") in world.keys
    }
    return StandupObservation(status=outcome.status, day=day, flagged=dict(sorted(flagged.items())))


def run_risk_scan(
    graph: Any, ctx: RunContext, repo: ReplayRepo, world: World, rs: RecordedSprint, day: int
) -> RiskObservation:
    assert world.sprint_project is not None
    thread = f"replay:{rs.id}:dependencies:{day}"
    args = {"projects": [world.sprint_project], "workspace": world.workspace, "trigger": "scan"}
    outcome = start_run(graph, ctx, thread, {"agent": "dependencies", "args": args, "trigger": "eval"})
    proposal = repo.proposal_of(thread)
    if proposal is None:
        return RiskObservation(status=outcome.status, error=_error(outcome, "dependency scan"), day=day)
    ev = proposal.evidence
    # The merged Risk Score per task (cascade and delay-risk model), the value the scan writes.
    merged: dict[str, int] = ev.get("risk_scores") or {
        a["gid"]: a["risk_score"] for a in ev.get("affected") or [] if a.get("risk_score") is not None
    }
    scores = {world.keys[g]: int(v) for g, v in merged.items() if g in world.keys}
    model = ev.get("delay_model") or {}
    return RiskObservation(
        status=outcome.status,
        day=day,
        scores=dict(sorted(scores.items())),
        slips=len(ev.get("slips") or []),
        pace_source=(ev.get("pace") or {}).get("source"),
        model_status=model.get("status"),
        model_examples=int(model.get("examples") or 0),
        model_flagged=sorted(
            world.keys[f["gid"]] for f in model.get("flagged") or [] if f["gid"] in world.keys
        ),
        model_seconds=model.get("train_seconds"),
    )


def run_retro(
    graph: Any, ctx: RunContext, repo: ReplayRepo, world: World, rs: RecordedSprint
) -> RetroObservation:
    assert world.sprint_project is not None
    thread = f"replay:{rs.id}:retro"
    # history 0: earlier sprints only feed recurring themes, which this eval does not score.
    args = {"project": world.sprint_project, "workspace": world.workspace, "history": 0}
    outcome = start_run(graph, ctx, thread, {"agent": "retro", "args": args, "trigger": "eval"})
    proposal = repo.proposal_of(thread)
    if proposal is None:
        return RetroObservation(status=outcome.status, error=_error(outcome, "retro"))
    c = proposal.evidence.get("commitment") or {}

    def keys(name: str) -> list[str]:
        return sorted(world.keys.get(g, g) for g in c.get(name) or [])

    numbers = RetroNumbers(
        committed_items=int(c.get("committed_items") or 0),
        committed_points=float(c.get("committed_points") or 0.0),
        added_items=int(c.get("added_items") or 0),
        added_points=float(c.get("added_points") or 0.0),
        completed_items=int(c.get("completed_items") or 0),
        completed_points=float(c.get("completed_points") or 0.0),
        carry_over_items=int(c.get("carry_over_items") or 0),
        carry_over_points=float(c.get("carry_over_points") or 0.0),
    )
    return RetroObservation(
        status=outcome.status,
        numbers=numbers,
        completed=keys("completed_gids"),
        carry_over=keys("carry_over_gids"),
        added=keys("added_gids"),
    )


def closed_before(world: World, rs: RecordedSprint) -> list[str]:
    """Sprint members already completed before the sprint's first day (closed in an earlier sprint)."""
    start = rs.start_on.isoformat()
    out = []
    for tid in members_of(rs):
        task = world.store.tasks.get(world.tasks.get(tid, ""))
        if task is not None and task.completed and task.completed_at and task.completed_at[:10] < start:
            out.append(tid)
    return sorted(out)


def retro_truth(rs: RecordedSprint, points: dict[str, float | None], world: World) -> RetroTruth:
    """The outcome on the retro's definitions: punted items left the sprint project, so they are in
    none of its numbers; carry-over = members still open at the end (not completed + completed in
    another sprint); committed/added split by when the item joined; points at their final estimate,
    except completed points, which are the sprint report's own sum."""
    punted = set(rs.outcome.punted_items)
    members = [t for t in members_of(rs) if t not in punted]
    start = set(rs.snapshot.sprint_scope)
    done = set(rs.outcome.completed_items)

    def pts(ids: list[str]) -> float:
        return float(sum(points.get(t) or 0.0 for t in ids))

    committed = sorted(t for t in members if t in start)
    added = sorted(t for t in members if t not in start)
    carry = sorted(t for t in members if t not in done)
    precision = next((f.precision for f in rs.snapshot.fields if f.name == STORY_POINTS), 0)
    odd = [t for t in members if (p := points.get(t)) is not None and round(p, precision) != p]
    return RetroTruth(
        numbers=RetroNumbers(
            committed_items=len(committed),
            committed_points=pts(committed),
            added_items=len(added),
            added_points=pts(added),
            completed_items=len(done),
            completed_points=rs.outcome.completed_points,
            carry_over_items=len(carry),
            carry_over_points=pts(carry),
        ),
        completed_points_report=rs.outcome.completed_points,
        completed_points_items=pts(sorted(done)),
        punted_items=len(punted),
        punted_points=rs.outcome.punted_points,
        completed=sorted(done),
        carry_over=carry,
        added=added,
        closed_before_start=closed_before(world, rs),
        unrepresentable_points=sorted(odd),
    )


def retro_morning(rs: RecordedSprint) -> date:
    """The retro runs the morning after the last sprint day (every completion is in by then)."""
    return rs.end_on + timedelta(days=1)
