"""Benchmark: the stand-up of a 300-task sprint with 2,000 new stories uses the minimum of calls.

Minimum (Asana has stories per task only, and no "stories since" filter):
  1 (project) + ⌈tasks/100⌉ (tasks with modified_at and dependency completion)
  + ⌈status updates/100⌉ (previous stand-up) + Σ over tasks modified since then of ⌈stories/100⌉
  + ⌈users/100⌉ (only when someone is nudged).
Run: python -m evals.bench_standup [--tasks 300 --stories 2000 --modified 120]
"""

from __future__ import annotations

import argparse
import math
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from agents.standup.compute import compute_standup
from agents.standup.inputs import member_gids, read_standup_inputs
from sandbox.server import SandboxServer
from sandbox.store import Store
from tools.asana.client import AsanaClient


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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tasks", type=int, default=300)
    ap.add_argument("--stories", type=int, default=2000)
    ap.add_argument("--modified", type=int, default=120)
    a = ap.parse_args()
    now = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)
    store = Store()
    project, ws = build(store, a.tasks, a.stories, a.modified, now)
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
    minimum = 1 + math.ceil(a.tasks / 100) + 1 + story_pages + (1 if st.at_risk else 0)
    total = sum(calls.values())
    print(f"tasks={a.tasks} new stories={a.stories} modified tasks={len(inputs.modified_gids)}")
    print(f"changes in window={len(st.changes)} blockers={len(st.blockers)} at risk={len(st.at_risk)}")
    for route, n in sorted(calls.items()):
        print(f"  {n:5d}  {route}")
    print(
        f"API calls: {total}; minimum: {minimum} "
        f"(1 project + {math.ceil(a.tasks / 100)} task pages + 1 status page + {story_pages} story pages"
        f"{' + 1 users page' if st.at_risk else ''}); {'OK' if total == minimum else 'ABOVE MINIMUM'}"
    )
    print(f"elapsed {elapsed:.2f}s")


if __name__ == "__main__":
    main()
