"""Store persistence, request counters, thread safety, rendering speed and the CLI's store builder."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import asana
import httpx
import pytest

from sandbox.cli import build_store
from sandbox.faults import FaultConfig
from sandbox.optfields import parse_opt_fields
from sandbox.serialize import Renderer
from sandbox.server import SandboxServer
from sandbox.store import Store

from .conftest import build_mini  # type: ignore[import-not-found]


def test_save_load_round_trip_is_exact(
    tmp_path: Path, sdk: asana.ApiClient, mini, server: SandboxServer
) -> None:  # type: ignore[no-untyped-def]
    tasks = asana.TasksApi(sdk)
    gid = tasks.create_task(
        {
            "data": {
                "name": "persist me",
                "projects": [mini.project],
                "custom_fields": {mini.fields["priority"]: mini.options["High"]},
            }
        },
        {},
    )["gid"]
    asana.StoriesApi(sdk).create_story_for_task({"data": {"text": "hello"}}, gid, {})
    httpx.post(
        f"{server.base_url}/attachments",
        headers={"Authorization": f"Bearer {mini.token}"},
        data={"parent": gid},
        files={"file": ("a.bin", b"\x00\x01", "application/octet-stream")},
    )
    path = tmp_path / "state.json"
    mini.store.save(path)
    loaded = Store.load(path)
    assert loaded.to_json() == mini.store.to_json()
    again = tmp_path / "again.json"
    loaded.save(again)
    assert again.read_bytes() == path.read_bytes()
    # The loaded store serves the same data and keeps allocating fresh gids.
    assert loaded.stories_for(gid)[0].text == "hello"
    assert next(iter(loaded.attachments.values())).content == b"\x00\x01"
    assert loaded.new_gid() == mini.store.new_gid()


def test_stats_count_mutations_by_template(http: httpx.Client, server: SandboxServer, mini) -> None:  # type: ignore[no-untyped-def]
    stats = server.store.stats
    stats.reset()
    http.get("/users/me")
    http.get(f"/projects/{mini.project}/tasks", params={"limit": 5})
    assert stats.total == 2 and stats.mutating_total() == 0
    task = mini.store.project_tasks(mini.project)[0]
    http.put(f"/tasks/{task}", json={"data": {"name": "x"}})
    http.post(f"/tasks/{task}/stories", json={"data": {"text": "c"}})
    http.post("/tasks", content=b"{bad")  # rejected writes still count as write attempts
    snap = httpx.get(
        f"{server.root_url}/__sandbox/stats", headers={"Authorization": f"Bearer {mini.token}"}
    ).json()
    assert snap["data"]["mutating"] == {
        "POST /tasks": 1,
        "POST /tasks/{task_gid}/stories": 1,
        "PUT /tasks/{task_gid}": 1,
    }
    assert stats.count("GET", "/projects/{project_gid}/tasks") == 1
    assert stats.total == 5  # admin endpoints are not counted
    httpx.post(f"{server.root_url}/__sandbox/stats/reset", headers={"Authorization": f"Bearer {mini.token}"})
    assert stats.total == 0 and stats.mutating_total() == 0
    assert httpx.get(f"{server.root_url}/__sandbox/stats").status_code == 401


def test_concurrent_creates_get_unique_gids(server: SandboxServer, mini) -> None:  # type: ignore[no-untyped-def]
    def create(i: int) -> str:
        response = httpx.post(
            f"{server.base_url}/tasks",
            headers={"Authorization": f"Bearer {mini.token}"},
            json={"data": {"name": f"c{i}", "projects": [mini.project]}},
            timeout=10,
        )
        assert response.status_code == 201
        return str(response.json()["data"]["gid"])

    with ThreadPoolExecutor(8) as pool:
        gids = list(pool.map(create, range(40)))
    assert len(set(gids)) == 40
    section = mini.store.sections[mini.sections["Backlog"]]
    assert set(gids) <= set(section.tasks) and len(section.tasks) == len(set(section.tasks))


def test_page_of_100_tasks_with_a_dozen_opt_fields_renders_fast() -> None:
    mini = build_mini(n_tasks=2000)
    tasks = [mini.store.tasks[g] for g in mini.store.project_tasks(mini.project)[:100]]
    for task in tasks:
        mini.store.add_dependency(task.gid, tasks[0].gid) if task is not tasks[0] else None
    tree = parse_opt_fields(
        "name,completed,completed_at,due_on,assignee.name,memberships.section.name,"
        "custom_fields.name,custom_fields.display_value,custom_fields.number_value,"
        "dependencies,tags.name,modified_at,parent,notes"
    )
    renderer = Renderer(mini.store, "http://x")
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        page = [renderer.render(t, tree, full=False) for t in tasks]
        json.dumps(page)
        best = min(best, time.perf_counter() - started)
    assert len(page) == 100 and page[1]["dependencies"] == [{"gid": tasks[0].gid, "resource_type": "task"}]
    assert best < 0.05, f"rendering took {best * 1000:.1f} ms"


def test_build_store_from_state_file_and_fault_syntax(tmp_path: Path) -> None:
    mini = build_mini()
    mini.store.meta["default_token"] = mini.token
    path = tmp_path / "s.json"
    mini.store.save(path)
    store, token = build_store(7, path)
    assert token == mini.token and store.to_json() == mini.store.to_json()
    config = FaultConfig.parse("429=0.1,5xx=0.05,latency=50,dup=0.1,drop=0.1")
    assert (config.rate_429, config.rate_5xx, config.latency_ms, config.webhook_dup, config.webhook_drop) == (
        0.1,
        0.05,
        50,
        0.1,
        0.1,
    )
    with pytest.raises(ValueError):
        FaultConfig.parse("bogus=1")
