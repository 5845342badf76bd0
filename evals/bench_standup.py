"""Benchmark: the stand-up of a 300-task sprint with 2,000 new stories uses the minimum of calls,
and its compute stays linear in the sprint's changes (issue 23).

Minimum (Asana has stories per task only, and no "stories since" filter):
  1 (project) + ⌈tasks/100⌉ (tasks with modified_at and dependency completion)
  + ⌈status updates/100⌉ (previous stand-up) + Σ over tasks modified since then of ⌈stories/100⌉
  + ⌈users/100⌉ (only when someone is nudged).
Compute: `compute_standup` on generated sprints of 300, 1,000 and 3,000 tasks (`synthetic_inputs`,
~4 stories per task) against the former algorithms (`reference_standup`: each started task scanned
every change for its last movement, each person's workload scanned every task), same run, same
inputs, same result; goal 3,000 tasks < 0.5 s.
Run: python -m evals.bench_standup [--tasks 300 --stories 2000 --modified 120]
     [--sizes 300,1000,3000 --repeat 3] [--no-calls]
"""

from __future__ import annotations

import argparse
import math
import random
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from functools import partial
from unittest import mock
from zoneinfo import ZoneInfo

from agents.standup.compute import Standup, compute_standup
from agents.standup.inputs import StandupInputs, member_gids, read_standup_inputs
from sandbox.server import SandboxServer
from sandbox.store import Store
from tools.asana.client import AsanaClient
from tools.asana.models import CustomField, EnumOption, Project, Ref, Story
from tools.standup.activity import is_stuck_comment, next_order_key
from tools.standup.blockers import Blocker
from tools.standup.calendar import add_working_days, working_days_between
from tools.standup.capacity import workload
from tools.standup.models import Change, ChangeKind, TaskState
from tools.standup.risk import AtRisk, Pace


def build(store: Store, n_tasks: int, n_stories: int, n_modified: int, now: datetime) -> tuple[str, str]:
    ws = store.add_workspace("Bench", is_organization=True)
    bot = store.add_user("sprintpilot", "bot@bench.example", workspaces=[ws.gid])
    store.add_token("bench-token", bot.gid)
    people = [store.add_user(f"Dev {i}", f"dev{i}@bench.example", workspaces=[ws.gid]) for i in range(8)]
    start = (now - timedelta(days=3)).date()
    project = store.add_project(ws.gid, "Sprint 1", start_on=start, due_on=start + timedelta(days=13))
    todo = store.add_section(project.gid, "To Do")
    doing = store.add_section(project.gid, "In Progress")
    old = now - timedelta(days=5)
    gids = []
    for i in range(n_tasks):
        sec = doing if i % 3 == 0 else todo
        t = store.add_task(
            ws.gid,
            f"Task {i}",
            memberships=[(project.gid, sec.gid)],
            created_at=old,
            modified_at=old,
            assignee=people[i % len(people)].gid,
            due_on=start + timedelta(days=13),
        )
        gids.append(t.gid)
    store.add_status_update(
        project.gid,
        text="previous",
        title=f"Daily stand-up {(now - timedelta(days=1)).date()}",
        created_at=now - timedelta(days=1),
    )
    touched = gids[:n_modified]
    for k in range(n_stories):
        g = touched[k % len(touched)]
        when = now - timedelta(hours=12) + timedelta(seconds=k)
        store.add_story(
            g,
            text=f"update {k}: still waiting on review" if k % 50 == 0 else f"update {k}",
            created_at=when,
            created_by=people[k % len(people)].gid,
        )
        store.tasks[g].modified_at = when.isoformat().replace("+00:00", "Z")
    return project.gid, ws.gid


# ---------------------------------------------------------------------------------------------
# Compute scaling (issue 23): the stand-up's analytics over a generated sprint of 300, 1,000 and
# 3,000 tasks against the former algorithms (per-task rescans of every change and of every task
# per person), measured in the same run on the same inputs. Goal: 3,000 tasks < 0.5 s.

GOAL_TASKS = 3000
GOAL_SECONDS = 0.5
SYNTH_NOW = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)
_SECTIONS = ("To Do", "In Progress", "Review", "Done")
_STATUSES = (None, "Not started", "In Progress", "Blocked", "Review")
_PRIORITIES = (None, "Low", "Medium", "High", "Critical")
_TEXTS = (
    "looks good",
    "still waiting on review",
    "pushed a fix",
    "blocked by the API team",
    "thanks!",
    "need help with the test",
)


def synthetic_inputs(n_tasks: int, seed: int = 0) -> StandupInputs:
    """A sprint of `n_tasks` tasks (one person per 25), ~4 stories each around the window (seeded):
    comments (some stuck), moves (some in another project), completions, points, Status, joins."""
    rng = random.Random(seed)
    start, end = date(2026, 11, 9), date(2026, 11, 20)
    start_dt = datetime.combine(start, datetime.min.time(), tzinfo=UTC)
    project = Project(gid="1000", name="Sprint 23", start_on=start, due_on=end)
    people = [(f"u{i}", f"Dev {i}") for i in range(max(3, n_tasks // 25))]
    since = SYNTH_NOW - timedelta(days=1)
    gids = [str(20000 + i) for i in range(n_tasks)]
    tasks: list[TaskState] = []
    stories: dict[str, list[Story]] = {}
    for i, gid in enumerate(gids):
        who: tuple[str | None, str | None] = rng.choice(people) if rng.random() > 0.05 else (None, None)
        completed = rng.random() < 0.3
        created = start_dt - timedelta(days=2)
        if rng.random() < 0.1:
            created = start_dt + timedelta(days=rng.randint(1, 8), hours=rng.randint(0, 23))
        deps: dict[str, bool | None] = {}
        names: dict[str, str] = {}
        for _ in range(rng.choice((0, 0, 0, 1, 2))):
            dep = rng.choice(gids) if rng.random() < 0.8 else str(90000 + rng.randint(0, 99))
            if dep != gid:
                deps[dep] = rng.choice((True, False, False, None))
                names[dep] = f"Task {dep}"
        modified = SYNTH_NOW - timedelta(days=rng.randint(0, 9), hours=rng.randint(0, 23))
        tasks.append(
            TaskState(
                gid=gid,
                name=f"Task {i}",
                assignee_gid=who[0],
                assignee_name=who[1],
                section=rng.choice(_SECTIONS),
                status=rng.choice(_STATUSES),
                priority=rng.choice(_PRIORITIES),
                points=rng.choice((None, 1.0, 2.0, 3.0, 5.0, 8.0)),
                completed=completed,
                completed_at=SYNTH_NOW - timedelta(days=rng.randint(0, 12), hours=rng.randint(0, 23))
                if completed
                else None,
                created_at=created,
                modified_at=modified if rng.random() > 0.05 else None,
                due_on=start + timedelta(days=rng.randint(-2, 14)) if rng.random() > 0.1 else None,
                dependencies=deps,
                dependency_names=names,
                has_impediments_field=rng.random() < 0.5,
            )
        )
        rows = [
            _synthetic_story(rng, f"{gid}-{k}", since, people, project.gid) for k in range(rng.randint(0, 8))
        ]
        if rows:
            stories[gid] = rows
    return StandupInputs(
        project=project,
        workspace_gid="1",
        tasks=tasks,
        stories=stories,
        since=since,
        now=SYNTH_NOW,
        previous_standup=None,
        today_standup=None,
        modified_gids=list(stories),
    )


def _synthetic_story(
    rng: random.Random, gid: str, since: datetime, people: list[tuple[str, str]], project_gid: str
) -> Story:
    at = since - timedelta(hours=6) + timedelta(minutes=rng.randint(0, 36 * 60))
    actor = rng.choice(people)
    who = Ref(gid=actor[0], name=actor[1])
    kind = rng.randint(0, 9)
    if kind <= 3:
        return Story(
            gid=gid,
            created_at=at,
            created_by=who,
            type="comment",
            resource_subtype="comment_added",
            text=rng.choice(_TEXTS),
        )
    if kind == 4:
        where = "999" if rng.random() < 0.2 else project_gid
        return Story(
            gid=gid,
            created_at=at,
            created_by=who,
            resource_subtype="section_changed",
            old_section=Ref(gid="s1", name=rng.choice(_SECTIONS)),
            new_section=Ref(gid="s2", name=rng.choice(_SECTIONS)),
            project=Ref(gid=where),
        )
    if kind == 5:
        sub = rng.choice(("marked_complete", "marked_incomplete", "assigned", "unassigned"))
        return Story(gid=gid, created_at=at, created_by=who, resource_subtype=sub, assignee=who)
    if kind == 6:
        return Story(
            gid=gid,
            created_at=at,
            created_by=who,
            resource_subtype="number_custom_field_changed",
            custom_field=CustomField(gid="cf1", name="Story Points"),
            old_number_value=rng.choice((None, 1.0, 3.0)),
            new_number_value=rng.choice((2.0, 5.0)),
        )
    if kind == 7:
        return Story(
            gid=gid,
            created_at=at,
            created_by=who,
            resource_subtype="enum_custom_field_changed",
            custom_field=CustomField(gid="cf2", name="Status"),
            old_enum_value=EnumOption(gid="e1", name="In Progress"),
            new_enum_value=EnumOption(gid="e2", name=rng.choice(("Blocked", "Review"))),
        )
    if kind == 8:
        sub = rng.choice(("added_to_project", "removed_from_project"))
        where = project_gid if rng.random() < 0.8 else "999"
        return Story(gid=gid, created_at=at, created_by=who, resource_subtype=sub, project=Ref(gid=where))
    return Story(
        gid=gid,
        created_at=at,
        created_by=who,
        resource_subtype="due_date_changed",
        old_dates={"due_on": "2026-11-17"},
        new_dates={"due_on": "2026-11-19"},
    )


# --- The former algorithms, kept to measure against (same run, same inputs). ---


def _reference_idle(task: TaskState, changes: list[Change], today: date) -> int:
    """Former `_idle`: every started task scanned every change of the window (tasks × changes)."""
    if not task.started:
        return 0
    days = [c.at.date() for c in changes if c.task_gid == task.gid]
    if task.modified_at is not None:
        days.append(task.modified_at.date())
    moved = max(days) if days else None
    return working_days_between(moved, today) if moved else 0


def _reference_find_blockers(
    tasks: Iterable[TaskState], changes: list[Change], today: date, *, stale_days: int = 3
) -> list[Blocker]:
    stuck_comments: dict[str, list[Change]] = {}
    for c in changes:
        if c.kind == ChangeKind.COMMENT and is_stuck_comment(c.text):
            stuck_comments.setdefault(c.task_gid, []).append(c)
    tasks = list(tasks)
    in_sprint = {t.gid for t in tasks}
    stuck_on_their_own = {
        t.gid
        for t in tasks
        if not t.completed
        and (t.blocked_status or t.gid in stuck_comments or _reference_idle(t, changes, today) >= stale_days)
    }
    out: list[Blocker] = []
    for task in tasks:
        if task.completed:
            continue
        b = Blocker(task_gid=task.gid)
        if task.blocked_status:
            b.add("blocked_status", "Status is Blocked")
        open_deps = [g for g, done in task.dependencies.items() if done is False]
        if (
            open_deps
            and not task.started
            and all(g in in_sprint and g not in stuck_on_their_own for g in open_deps)
        ):
            open_deps = []
        if open_deps:
            names = ", ".join(task.dependency_names.get(g, g) for g in open_deps[:3])
            more = f" and {len(open_deps) - 3} more" if len(open_deps) > 3 else ""
            b.add("dependency", f"waits on {len(open_deps)} unfinished task(s): {names}{more}")
        idle = _reference_idle(task, changes, today)
        if idle >= stale_days:
            b.add("stale", f"no movement for {idle} working days")
        for c in stuck_comments.get(task.gid, []):
            who = c.actor_name or "someone"
            b.add("stuck_comment", f"{who} reported being stuck ({c.at.date().isoformat()})")
        if b.reasons:
            out.append(b)
    return out


def _reference_find_at_risk(
    tasks: list[TaskState],
    blockers: list[Blocker],
    today: date,
    sprint_days: list[date],
    capacity: Mapping[str, float],
    *,
    due_soon_days: int = 2,
    given: Iterable[str] = (),
) -> tuple[list[AtRisk], Pace]:
    """Former `find_at_risk`: every person's workload, and every over-capacity person's tasks,
    scanned all the sprint's tasks (people × tasks)."""
    found: dict[str, AtRisk] = {}

    def add(gid: str, kind: str, reason: str) -> None:
        row = found.setdefault(gid, AtRisk(task_gid=gid))
        if kind not in row.kinds:
            row.kinds.append(kind)
            row.reasons.append(reason)

    blocked = {b.task_gid for b in blockers}
    stale = {b.task_gid for b in blockers if "stale" in b.kinds}
    horizon = add_working_days(today, due_soon_days)
    open_tasks = [t for t in tasks if not t.completed]
    for t in open_tasks:
        if t.due_on is None:
            continue
        no_progress = not t.started or t.gid in stale or t.gid in blocked
        if t.due_on < today:
            add(t.gid, "overdue", f"overdue since {t.due_on.isoformat()}")
        elif t.due_on <= horizon and no_progress:
            why = "not started" if not t.started else "blocked or stale"
            add(t.gid, "due_soon", f"due {t.due_on.isoformat()} and {why}")
    planned = set(given)
    elapsed = sum(1 for d in sprint_days if d < today)
    people = sorted({t.assignee_gid for t in tasks if t.assignee_gid and not t.completed})
    loads = {
        p: workload(
            p,
            float(capacity.get(p, 0.0)),
            tasks,
            days_total=len(sprint_days),
            days_elapsed=elapsed,
            source="plan" if p in planned else "committed",
            start=sprint_days[0] if sprint_days else None,
        )
        for p in people
    }
    n = max(1, len(sprint_days))
    p = Pace(
        team_points_per_day=sum(max(0.0, c) for c in capacity.values()) / n,
        per_person={person: w.capacity / n for person, w in loads.items()},
        days_elapsed=elapsed,
        days_left=sum(1 for d in sprint_days if d >= today),
        workloads=loads,
    )
    if p.days_elapsed > 0:
        for t in open_tasks:
            if not t.points:
                add(t.gid, "unestimated", "no story points: its size is unknown")
    if p.days_left > 0:
        for person, w in sorted(p.workloads.items()):
            if w.fits:
                continue
            mine = [t for t in open_tasks if t.assignee_gid == person]
            used = max(0.0, w.started - w.in_flight)
            for t in sorted((t for t in mine if not t.started), key=next_order_key):
                used += t.points or 0.0
                if used > w.limit + 1e-9:
                    add(
                        t.gid,
                        "capacity",
                        f"owner has {w.remaining_work:g} points of work left vs about "
                        f"{w.remaining_capacity:.1f} of capacity in {p.days_left} working day(s) "
                        f"({w.capacity:g} for the sprint)",
                    )
    order = {t.gid: i for i, t in enumerate(tasks)}
    return sorted(found.values(), key=lambda r: order.get(r.task_gid, 0)), p


def reference_standup(inputs: StandupInputs, *, stale_days: int = 3, due_soon_days: int = 2) -> Standup:
    """`compute_standup` with the former blockers and at-risk algorithms swapped back in."""
    with mock.patch.multiple(
        "agents.standup.compute", find_blockers=_reference_find_blockers, find_at_risk=_reference_find_at_risk
    ):
        return compute_standup(inputs, stale_days=stale_days, due_soon_days=due_soon_days)


def _best(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def compute_table(sizes: list[int], repeat: int) -> None:
    print(f"\nStand-up compute (agents/standup/compute.py compute_standup), best of {repeat}")
    print("| tasks | changes | reference s | new s | × faster | same result |")
    print("|---:|---:|---:|---:|---:|---|")
    at_goal: float | None = None
    for n in sizes:
        inputs = synthetic_inputs(n, seed=1)
        ref = _best(partial(reference_standup, inputs), repeat)
        new = _best(partial(compute_standup, inputs, stale_days=3, due_soon_days=2), repeat)
        got = compute_standup(inputs, stale_days=3, due_soon_days=2)
        same = reference_standup(inputs).model_dump_json() == got.model_dump_json()
        verdict = "yes" if same else "NO"
        print(f"| {n:,} | {len(got.changes):,} | {ref:.3f} | {new:.3f} | {ref / new:.1f} | {verdict} |")
        if n == GOAL_TASKS:
            at_goal = new
    if at_goal is not None:
        verdict = "OK" if at_goal < GOAL_SECONDS else "MISSED"
        print(f"goal: {GOAL_TASKS:,} tasks < {GOAL_SECONDS} s: {at_goal:.3f} s {verdict}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tasks", type=int, default=300)
    ap.add_argument("--stories", type=int, default=2000)
    ap.add_argument("--modified", type=int, default=120)
    ap.add_argument("--sizes", default="300,1000,3000", help="compute table sizes (tasks); empty: none")
    ap.add_argument("--repeat", type=int, default=3, help="compute runs per figure (the best is kept)")
    ap.add_argument("--no-calls", action="store_true", help="only the compute table")
    a = ap.parse_args()
    if not a.no_calls:
        calls_benchmark(a.tasks, a.stories, a.modified)
    sizes = [int(s) for s in a.sizes.split(",") if s.strip()]
    if sizes:
        compute_table(sizes, a.repeat)


def calls_benchmark(n_tasks: int, n_stories: int, n_modified: int) -> None:
    now = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)
    store = Store()
    project, ws = build(store, n_tasks, n_stories, n_modified, now)
    with SandboxServer(store, "bench-token") as srv, AsanaClient(srv.base_url, "bench-token") as client:
        store.stats.reset()
        t0 = time.perf_counter()
        inputs = read_standup_inputs(client, ws, project, now, ZoneInfo("UTC"))
        st = compute_standup(inputs, stale_days=3, due_soon_days=2)
        if st.at_risk:
            member_gids(client, inputs.project, ws)
        elapsed = time.perf_counter() - t0
        calls = Counter(store.stats.snapshot()["by_route"])
    per_task = Counter(len(v) for v in inputs.stories.values())
    story_pages = sum(math.ceil(max(1, n) / 100) * c for n, c in per_task.items())
    minimum = 1 + math.ceil(n_tasks / 100) + 1 + story_pages + (1 if st.at_risk else 0)
    total = sum(calls.values())
    print(f"tasks={n_tasks} new stories={n_stories} modified tasks={len(inputs.modified_gids)}")
    print(f"changes in window={len(st.changes)} blockers={len(st.blockers)} at risk={len(st.at_risk)}")
    for route, n in sorted(calls.items()):
        print(f"  {n:5d}  {route}")
    print(
        f"API calls: {total}; minimum: {minimum} "
        f"(1 project + {math.ceil(n_tasks / 100)} task pages + 1 status page + {story_pages} story pages"
        f"{' + 1 users page' if st.at_risk else ''}); {'OK' if total == minimum else 'ABOVE MINIMUM'}"
    )
    print(f"elapsed {elapsed:.2f}s")


if __name__ == "__main__":
    main()
