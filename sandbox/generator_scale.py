"""Large synthetic projects for benchmarks (e.g. 2,000 tasks with 3,000 dependency edges).

The project gets the planning fields (points, value, effort, priority, status) on every task and a
random dependency DAG: edges always run from a later task to an earlier one, and no task exceeds
Asana's 30 dependencies + dependents.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING

from sandbox.generator_calendar import DEFAULT_ANCHOR
from sandbox.generator_history import FIBONACCI, MAX_LINKS, PRIORITIES, STATUSES
from sandbox.generator_people import SKILLS
from sandbox.store import Store

if TYPE_CHECKING:
    from sandbox.generator import GeneratedWorkspace

_PLANNING_FIELDS = ("Story Points", "Priority", "Business Value", "Effort", "Status")
_EFFORT_FOR_POINTS = {1: 1, 2: 2, 3: 3, 5: 5, 8: 7, 13: 9}


@dataclass
class LargeProject:
    project_gid: str
    task_gids: list[str]  # in topological order: a task only depends on tasks before it
    edges: list[tuple[str, str]]  # (task, depends_on)


def generate_large_project(
    store_or_ws: Store | GeneratedWorkspace, n_tasks: int, n_edges: int, seed: int
) -> LargeProject:
    """Add a project "Scale Test <n_tasks>x<n_edges> (seed N)" with `n_tasks` tasks and `n_edges` edges."""
    if n_tasks < 1 or n_edges < 0:
        raise ValueError("n_tasks must be positive and n_edges non-negative")
    max_edges = min(n_tasks * (n_tasks - 1) // 2, n_tasks * MAX_LINKS // 2)
    if n_edges > max_edges:
        raise ValueError(f"{n_edges} edges cannot fit {n_tasks} tasks under the {MAX_LINKS}-link cap")
    store, ws_gid, anchor = _target(store_or_ws)
    fields = _planning_fields(store, ws_gid)
    tags = _skill_tags(store, ws_gid)
    rng = random.Random(f"sprintpilot-scale:{seed}:{n_tasks}:{n_edges}")
    created = datetime.combine(anchor - timedelta(days=30), time(9, 0), tzinfo=UTC)
    owner = next(iter(store.workspaces[ws_gid].members), None)
    project = store.add_project(
        ws_gid,
        f"Scale Test {n_tasks}x{n_edges} (seed {seed})",
        owner=owner,
        created_at=created,
        notes="Synthetic project for benchmarks.",
    )
    section = store.add_section(project.gid, "Backlog", created_at=created).gid
    for name in _PLANNING_FIELDS:
        store.add_field_setting(project.gid, fields[name])

    gids: list[str] = []
    for i in range(n_tasks):
        points = rng.choices(FIBONACCI, weights=(8, 15, 25, 25, 17, 10))[0]
        skill = rng.choice(SKILLS)
        values = {
            fields["Story Points"]: points,
            fields["Priority"]: rng.choices(PRIORITIES, weights=(8, 27, 40, 25))[0],
            fields["Business Value"]: rng.randint(1, 100),
            fields["Effort"]: max(1, min(10, _EFFORT_FOR_POINTS[points] + rng.randint(-1, 1))),
            fields["Status"]: STATUSES[0],
        }
        task = store.add_task(
            ws_gid,
            f"Scale task {i + 1:05d} ({skill})",
            created_at=created + timedelta(seconds=i),
            memberships=[(project.gid, section)],
            tags=[tags[skill]],
            custom_fields=values,
        )
        gids.append(task.gid)

    edges = _dag_edges(rng, n_tasks, n_edges)
    for later, earlier in edges:
        store.add_dependency(gids[later], gids[earlier])
    return LargeProject(project.gid, gids, [(gids[a], gids[b]) for a, b in edges])


def _dag_edges(rng: random.Random, n: int, m: int) -> list[tuple[int, int]]:
    """`m` distinct (later, earlier) index pairs, mostly local (chains), each node ≤ MAX_LINKS links."""
    degree = [0] * n
    seen: set[tuple[int, int]] = set()
    edges: list[tuple[int, int]] = []
    attempts = 0
    while len(edges) < m and attempts < 50 * m:
        attempts += 1
        later = rng.randrange(1, n)
        reach = later if rng.random() < 0.2 else min(later, 40)
        earlier = later - rng.randint(1, reach)
        if (later, earlier) in seen or degree[later] >= MAX_LINKS or degree[earlier] >= MAX_LINKS:
            continue
        seen.add((later, earlier))
        edges.append((later, earlier))
        degree[later] += 1
        degree[earlier] += 1
    if len(edges) < m:
        # Too dense for random placement: sample from a graph where every node has at most
        # MAX_LINKS links by construction (complete for small n, a circulant graph otherwise).
        if n <= MAX_LINKS + 1:
            pool = [(a, b) for a in range(1, n) for b in range(a)]
        else:
            pairs = ((i, (i + d) % n) for i in range(n) for d in range(1, MAX_LINKS // 2 + 1))
            pool = [(max(a, b), min(a, b)) for a, b in pairs]
        edges = sorted(rng.sample(pool, m))
    return edges


def _target(store_or_ws: Store | GeneratedWorkspace) -> tuple[Store, str, date]:
    if isinstance(store_or_ws, Store):
        store = store_or_ws
        named = [w.gid for w in store.workspaces.values() if w.name == "Acme Product"]
        if named:
            return store, named[0], DEFAULT_ANCHOR
        if store.workspaces:
            return store, next(iter(store.workspaces)), DEFAULT_ANCHOR
        return store, store.add_workspace("Acme Product").gid, DEFAULT_ANCHOR
    return store_or_ws.store, store_or_ws.workspace_gid, store_or_ws.anchor


def _planning_fields(store: Store, ws_gid: str) -> dict[str, str]:
    """Gids of the planning fields in the workspace, creating any that are missing."""
    by_name = {cf.name: cf.gid for cf in store.custom_fields.values() if cf.workspace == ws_gid}
    specs = {
        "Story Points": ("number", ()),
        "Priority": ("enum", PRIORITIES),
        "Business Value": ("number", ()),
        "Effort": ("number", ()),
        "Status": ("enum", STATUSES),
    }
    for name, (subtype, options) in specs.items():
        if name not in by_name:
            by_name[name] = store.add_custom_field(ws_gid, name, subtype, enum_options=options).gid
    return by_name


def _skill_tags(store: Store, ws_gid: str) -> dict[str, str]:
    by_name = {t.name: t.gid for t in store.tags.values() if t.workspace == ws_gid}
    for skill in SKILLS:
        if skill not in by_name:
            by_name[skill] = store.add_tag(ws_gid, skill, created_at=datetime(2026, 1, 1, tzinfo=UTC)).gid
    return by_name
