"""The replay harness: one fresh sandbox per recorded sprint, a frozen clock, the real supervisor graph.

For each recorded sprint (in sequence order):

1. build the world (evals.replay.world) with the previous `history` recordings as past sprint
   projects, serve it over HTTP (SandboxServer) and talk to it with the typed client;
2. day 0: run the planner through `graphs.runner.start_run` (in-memory checkpointer and ports).
   Its proposal waits at the approval gate and is never approved: the replay only reads it;
3. open the real sprint (the recorded starting scope) and apply the recorded events day by day
   with the clock frozen at each day; tasks added on a day are handed to triage that day (one
   run per day, all auto actions, applied inside the sandbox only);
4. reduce the proposals to observations (evals.replay.observations) for the scorers.

Deterministic: recordings are seeded, the clock is frozen, thread ids derive from the sprint id,
prompts are byte-stable and only derived numbers and recorded ids reach the report.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from langgraph.checkpoint.memory import InMemorySaver

from agents.dependencies import dependencies_specialist
from agents.planner import planner_specialist
from agents.retro import retro_specialist
from agents.standup import standup_specialist
from agents.triage import triage_specialist
from evals.recorded.models import RecordedSprint
from evals.replay.observations import (
    PlannerObservation,
    SprintAgentsObservation,
    SprintObservation,
    TriageObservation,
)
from evals.replay.ports import ReplayAudit, ReplayJournal, ReplayRepo
from evals.replay.sprint_agents import (
    apply_with_stories,
    mid_sprint_day,
    open_tasks,
    retro_morning,
    retro_truth,
    run_retro,
    run_risk_scan,
    run_standup,
)
from evals.replay.world import (
    EVENT_TIME,
    TOKEN,
    WORK_START,
    World,
    WorldBuilder,
    apply_event,
    as_number,
    at,
    final_points,
    open_sprint,
)
from graphs.context import RunContext
from graphs.registry import SpecialistRegistry
from graphs.runner import start_run
from graphs.supervisor import build_supervisor_graph
from sandbox.server import SandboxServer
from tools.asana.client import AsanaClient
from tools.asana.field_names import PRIORITY, STORY_POINTS
from tools.asana.process_cache import forget_asana
from tools.heap import release_free_memory
from tools.llm.engine import LanguageEngine

DEFAULT_HISTORY = 6
PRIORITY_RANK = {"Critical": 0, "High": 1, "Medium": 2, "Low": 3}


@dataclass
class ReplayConfig:
    history: int = DEFAULT_HISTORY
    triage: bool = True
    # The extra agents (one run each per sprint): stand-up and dependency scan at mid-sprint, retro
    # at the end. Cheap (no charts, no nudges, no earlier retros read); off = the old replay.
    standup: bool = True
    risk: bool = True
    retro: bool = True
    language: LanguageEngine = field(default_factory=LanguageEngine)
    progress: Callable[[str], None] | None = None


@dataclass
class ReplayResult:
    sprints: list[SprintObservation]
    seconds: float
    per_sprint_seconds: dict[str, float] = field(default_factory=dict)


def priority_baseline(rs: RecordedSprint, capacity: float | None) -> list[str]:
    """Naive item baseline: candidates by Jira priority (then key order) until last velocity is used."""
    if not capacity:
        return []
    chosen, used = [], 0.0
    ranked = sorted(
        rs.snapshot.tasks, key=lambda t: (PRIORITY_RANK.get(str(t.fields.get(PRIORITY)), 2), t.id)
    )
    for t in ranked:
        pts = as_number(t.fields.get(STORY_POINTS)) or 0.0
        if pts and used + pts <= capacity:
            chosen.append(t.id)
            used += pts
    return sorted(chosen)


def _planner_obs(
    world: World, outcome: Any, repo: ReplayRepo, thread: str, candidates: int
) -> PlannerObservation:
    proposal = repo.proposal_of(thread)
    if proposal is None:
        error = (outcome.report or {}).get("error") if outcome.report else None
        return PlannerObservation(
            status=outcome.status, error=str(error or "no proposal"), candidates=candidates
        )
    ev = proposal.evidence
    vel, cap, sel = ev.get("velocity") or {}, ev.get("capacity") or {}, ev.get("selection") or {}
    chosen = sorted(world.keys.get(g, g) for g in sel.get("chosen") or [])
    return PlannerObservation(
        status=outcome.status,
        capacity=as_number(cap.get("capacity")),
        capacity_source=cap.get("source"),
        velocity_median=as_number(vel.get("median")),
        predicted_low=as_number(vel.get("predicted_low")),
        predicted_high=as_number(vel.get("predicted_high")),
        selected_points=as_number(sel.get("total_points")),
        chosen=chosen,
        candidates=candidates,
        actions=len(proposal.actions),
    )


def _completed_history_median(world: World) -> tuple[float | None, int]:
    store = world.store
    sp = world.fields[STORY_POINTS]
    values = [
        float(t.custom_fields[sp])
        for gid in store.project_tasks(world.backlog)
        if (t := store.tasks[gid]).completed and t.custom_fields.get(sp)
    ]
    return (statistics.median(values) if values else None), len(values)


def _triage_obs(
    repo: ReplayRepo, thread: str, world: World, day: int, truth: dict[str, float | None]
) -> tuple[list[TriageObservation], str | None]:
    proposal = repo.proposal_of(thread)
    if proposal is None:
        return [], f"day {day}: triage made no proposal"
    median, size = _completed_history_median(world)
    rows = []
    by_target: dict[str, int] = {}
    comments: set[str] = set()
    for a in proposal.actions:
        if a.target and a.kind.value == "set_custom_field":
            by_target[a.target] = by_target.get(a.target, 0) + 1
        if a.target and a.kind.value == "post_comment":
            comments.add(a.target)
    for t in proposal.evidence.get("tasks") or []:
        est = t.get("estimate") or {}
        key = world.keys.get(t["gid"], t["gid"])
        actual = truth.get(key)
        rows.append(
            TriageObservation(
                task=key,
                day=day,
                estimate=as_number(est.get("points")),
                low=as_number(est.get("low")),
                high=as_number(est.get("high")),
                actual=actual if actual else None,
                median_baseline=median,
                history_size=size,
                criteria=len((t.get("criteria") or {}).get("items") or []),
                risk=int((t.get("risk") or {}).get("score") or 0),
                priority=float((t.get("priority") or {}).get("score") or 0.0),
                fields_written=by_target.get(t["gid"], 0),
                comment_posted=t["gid"] in comments,
            )
        )
    return rows, None


@contextmanager
def _forgotten_after(base_url: str) -> Iterator[None]:
    """A finished sprint's sandbox is never read again: what the process kept from it (triage's
    estimator indexes, project task lists, timed caches) is dropped, so replay memory stays flat
    across sprints, and a later sprint that gets the same address back starts clean; the freed heap
    goes back to the OS (tools/heap.py)."""
    try:
        yield
    finally:
        forget_asana(base_url)
        release_free_memory()


def replay_sprint(
    rs: RecordedSprint, history: Sequence[RecordedSprint], config: ReplayConfig, last_velocity: float | None
) -> SprintObservation:
    world = WorldBuilder(rs, list(history)).build()
    specialists = [planner_specialist()] + ([triage_specialist()] if config.triage else [])
    specialists += [standup_specialist()] if config.standup else []
    specialists += [dependencies_specialist()] if config.risk else []
    specialists += [retro_specialist()] if config.retro else []
    registry = SpecialistRegistry(specialists)
    graph = build_supervisor_graph(registry).compile(checkpointer=InMemorySaver())
    audit = ReplayAudit()
    repo = ReplayRepo()
    master = world.store.projects[world.backlog].owner
    truth = final_points(rs)
    obs = SprintObservation(
        id=rs.id,
        sequence=rs.sequence,
        name=rs.name,
        start_on=rs.start_on.isoformat(),
        end_on=rs.end_on.isoformat(),
        history_sprints=len(history),
        last_velocity=last_velocity,
        actual_completed_points=rs.outcome.completed_points,
        actual_completed_items=sorted(rs.outcome.completed_items),
        starting_scope=sorted(rs.snapshot.sprint_scope),
        priority_baseline_items=priority_baseline(rs, last_velocity),
    )
    with (
        SandboxServer(world.store, TOKEN) as server,
        AsanaClient(server.base_url, TOKEN) as client,
        _forgotten_after(server.base_url),
    ):
        ctx = RunContext(
            asana=client,
            writes=client,
            journal=ReplayJournal(audit),
            repo=repo,
            audit=audit,
            registry=registry,
            language=config.language,
            allowed_workspace_gids=frozenset({world.workspace}),
            approver_gid=master,
            now=world.clock,
            actor="eval:replay",
        )
        world.clock.set(at(rs.start_on, WORK_START))
        thread = f"replay:{rs.id}:planner"
        outcome = start_run(
            graph,
            ctx,
            thread,
            {
                "agent": "planner",
                "args": {"project": world.backlog, "workspace": world.workspace},
                "trigger": "eval",
            },
        )
        obs.planner = _planner_obs(world, outcome, repo, thread, len(rs.snapshot.tasks))
        open_sprint(world, rs)
        extra = config.standup or config.risk or config.retro
        agents = obs.agents = SprintAgentsObservation() if extra else None
        mid = mid_sprint_day(rs)
        for day in range(rs.length_days):
            if agents is not None and day == mid and (config.standup or config.risk):
                today = rs.start_on + timedelta(days=day)
                world.clock.set(at(today, WORK_START))
                agents.mid_day = day
                agents.open_tasks = open_tasks(world, rs)
                if config.standup:
                    agents.standup = run_standup(graph, ctx, repo, world, day, today)
                if config.risk:
                    agents.risk = run_risk_scan(graph, ctx, repo, world, rs, day)
            world.clock.set(at(rs.start_on + timedelta(days=day), EVENT_TIME))
            apply = apply_with_stories if extra else apply_event
            added = [g for e in rs.events if e.day == day if (g := apply(world, e, rs.start_on))]
            if not (config.triage and added):
                continue
            tthread = f"replay:{rs.id}:triage:{day}"
            out = start_run(
                graph,
                ctx,
                tthread,
                {
                    "agent": "triage",
                    "args": {"tasks": added, "workspace": world.workspace},
                    "trigger": "eval",
                },
            )
            obs.triage_runs += 1
            rows, error = _triage_obs(repo, tthread, world, day, truth)
            obs.triage.extend(rows)
            if out.status == "error" or error:
                obs.triage_errors.append(error or str((out.report or {}).get("error")))
        if agents is not None and config.retro:
            world.clock.set(at(retro_morning(rs), WORK_START))
            agents.retro = run_retro(graph, ctx, repo, world, rs)
            agents.retro_truth = retro_truth(rs, truth, world)
    return obs


def replay(
    sprints: Sequence[RecordedSprint], config: ReplayConfig, *, only: set[int] | None = None
) -> ReplayResult:
    """Replay `sprints` (all recordings in sequence order; `only` limits which are replayed, the
    earlier ones still serve as history)."""
    ordered = sorted(sprints, key=lambda s: s.sequence)
    started = time.perf_counter()
    out: list[SprintObservation] = []
    timings: dict[str, float] = {}
    for i, rs in enumerate(ordered):
        if only is not None and rs.sequence not in only:
            continue
        history = ordered[max(0, i - config.history) : i]
        last = ordered[i - 1].outcome.completed_points if i > 0 else None
        t0 = time.perf_counter()
        out.append(replay_sprint(rs, history, config, last))
        timings[rs.id] = time.perf_counter() - t0
        if config.progress:
            config.progress(f"{rs.name}: {timings[rs.id]:.1f}s")
    return ReplayResult(sprints=out, seconds=time.perf_counter() - started, per_sprint_seconds=timings)
