"""The benchmark-scale project: 2,000 tasks, 3,000 edges, a capped DAG, all planning fields."""

from __future__ import annotations

import json
import time

import networkx as nx
import pytest

from sandbox.generator import GeneratedWorkspace, generate_large_project, generate_workspace
from sandbox.store import Store

PLANNING = ("Story Points", "Priority", "Business Value", "Effort", "Status")


def test_large_project_has_the_requested_shape() -> None:
    ws = generate_workspace(7, backlog_size=20)
    started = time.perf_counter()
    large = generate_large_project(ws, 2000, 3000, seed=1)
    elapsed = time.perf_counter() - started
    store = ws.store
    assert elapsed < 5.0
    assert len(large.task_gids) == 2000 and len(large.edges) == 3000
    assert store.project_tasks(large.project_gid) == large.task_gids
    graph = nx.DiGraph(large.edges)
    assert graph.number_of_edges() == 3000
    assert nx.is_directed_acyclic_graph(graph)
    position = {g: i for i, g in enumerate(large.task_gids)}
    assert all(position[a] > position[b] for a, b in large.edges)
    fields = {cf.name: cf.gid for cf in store.custom_fields.values() if cf.workspace == ws.workspace_gid}
    for gid in large.task_gids:
        task = store.tasks[gid]
        assert len(task.dependencies) + len(task.dependents) <= 30
        assert all(task.custom_fields.get(fields[name]) is not None for name in PLANNING)
    settings = store.projects[large.project_gid].custom_field_settings
    attached = {store.field_settings[s].custom_field for s in settings}
    assert {fields[n] for n in PLANNING} <= attached


def test_large_project_is_deterministic_and_works_on_a_bare_store() -> None:
    def dump() -> str:
        store = Store()
        generate_large_project(store, 300, 500, seed=4)
        return json.dumps(store.to_json(), sort_keys=True)

    assert dump() == dump()


def test_dense_requests_respect_the_link_cap() -> None:
    store = Store()
    large = generate_large_project(store, 40, 40 * 15, seed=2)  # every task at exactly 30 links
    links = [len(store.tasks[g].dependencies) + len(store.tasks[g].dependents) for g in large.task_gids]
    assert links == [30] * 40
    with pytest.raises(ValueError):
        generate_large_project(store, 40, 40 * 15 + 1, seed=2)


def test_accepts_a_generated_workspace(ws: GeneratedWorkspace) -> None:
    # Uses the workspace's own fields and tags rather than creating duplicates.
    fresh = generate_workspace(7, backlog_size=10)
    before = len(fresh.store.custom_fields)
    generate_large_project(fresh, 50, 60, seed=3)
    assert len(fresh.store.custom_fields) == before
    assert ws.workspace_gid  # the shared fixture is untouched by this test
