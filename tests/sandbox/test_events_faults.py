"""Events API sync tokens, injected faults (429/5xx) as the SDK sees them, and Asana-like quotas."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

import asana
import httpx
import pytest
from asana.rest import ApiException
from urllib3.exceptions import MaxRetryError

from sandbox.quotas import QuotaConfig, QuotaTracker
from sandbox.server import SandboxServer

from .conftest import make_sdk  # type: ignore[import-not-found]

pytestmark = pytest.mark.integration


def test_events_412_then_sync_with_has_more(http: httpx.Client, sdk: asana.ApiClient, mini) -> None:  # type: ignore[no-untyped-def]
    first = http.get("/events", params={"resource": mini.project})
    assert first.status_code == 412
    sync = first.json()["sync"]
    assert first.json()["errors"][0]["message"]
    empty = http.get("/events", params={"resource": mini.project, "sync": sync}).json()
    assert empty["data"] == [] and empty["has_more"] is False
    tasks = asana.TasksApi(sdk)
    gid = mini.store.project_tasks(mini.project)[0]
    for i in range(105):
        tasks.update_task({"data": {"name": f"n{i}"}}, gid, {})
    page1 = http.get("/events", params={"resource": mini.project, "sync": empty["sync"]}).json()
    # Each rename is a task change plus a system story: 210 events in all.
    assert len(page1["data"]) == 100 and page1["has_more"] is True
    page2 = http.get("/events", params={"resource": mini.project, "sync": page1["sync"]}).json()
    page3 = http.get("/events", params={"resource": mini.project, "sync": page2["sync"]}).json()
    assert (len(page2["data"]), len(page3["data"]), page3["has_more"]) == (100, 10, False)
    assert {e["resource"]["resource_type"] for e in page1["data"]} == {"task", "story"}
    assert http.get("/events", params={"resource": mini.project, "sync": "stale"}).status_code == 412


def test_events_api_through_sdk_full_payload(sdk: asana.ApiClient, mini) -> None:  # type: ignore[no-untyped-def]
    events = asana.EventsApi(sdk)
    with pytest.raises(ApiException) as exc:
        events.get_events(mini.project, {}, full_payload=True)
    assert exc.value.status == 412
    sync = json.loads(exc.value.body)["sync"]
    asana.TasksApi(sdk).create_task({"data": {"name": "evt", "projects": [mini.project]}}, {})
    payload = events.get_events(mini.project, {"sync": sync}, full_payload=True)
    assert [e["action"] for e in payload["data"]] == ["added", "added"]  # to the project and its section
    assert payload["sync"] != sync


def test_429_retry_after_honoured_by_sdk_get(server: SandboxServer, faults) -> None:  # type: ignore[no-untyped-def]
    faults(burst_429=1, retry_after_s=1)
    client = make_sdk(server.base_url, server.token, retries=2)
    started = time.monotonic()
    me = asana.UsersApi(client).get_user("me", {})
    assert me["name"] == "sprintpilot"
    assert time.monotonic() - started >= 0.9  # urllib3 slept for Retry-After
    assert server.store.stats.by_status[429] == 1


def test_429_exhausted_get_raises_max_retry_and_post_is_not_retried(
    server: SandboxServer, mini, faults
) -> None:  # type: ignore[no-untyped-def]
    faults(rate_429=1.0, retry_after_s=0)
    client = make_sdk(server.base_url, server.token, retries=1)
    with pytest.raises(MaxRetryError):
        asana.UsersApi(client).get_user("me", {})
    before = server.store.stats.total
    with pytest.raises(ApiException) as exc:
        asana.TasksApi(client).create_task({"data": {"name": "x", "projects": [mini.project]}}, {})
    assert exc.value.status == 429 and exc.value.headers["Retry-After"] == "0"
    assert server.store.stats.total == before + 1


def test_per_minute_quota(server: SandboxServer, http: httpx.Client) -> None:
    httpx.put(
        f"{server.root_url}/__sandbox/faults",
        headers={"Authorization": f"Bearer {server.token}"},
        json={"quota": {"enabled": True, "per_minute": 5}},
    )
    statuses = [http.get("/users/me").status_code for _ in range(7)]
    assert statuses == [200] * 5 + [429] * 2
    limited = http.get("/users/me")
    assert int(limited.headers["Retry-After"]) >= 1


def test_concurrent_write_limit_unit() -> None:
    clock = [0.0]
    tracker = QuotaTracker(
        QuotaConfig(enabled=True, per_minute=1000, concurrent_writes=15, concurrent_reads=50),
        clock=lambda: clock[0],
    )
    admitted = [tracker.enter("t", is_write=True) for _ in range(16)]
    assert admitted[:15] == [None] * 15 and admitted[15] == 1
    assert tracker.enter("t", is_write=False) is None  # reads are limited independently
    tracker.leave("t", is_write=True)
    assert tracker.enter("t", is_write=True) is None


def test_concurrent_writes_over_http(server: SandboxServer, mini, faults) -> None:  # type: ignore[no-untyped-def]
    httpx.put(
        f"{server.root_url}/__sandbox/faults",
        headers={"Authorization": f"Bearer {server.token}"},
        json={"quota": {"enabled": True, "concurrent_writes": 2}, "latency_ms": 150},
    )
    gid = mini.store.project_tasks(mini.project)[0]

    def write(i: int) -> int:
        return httpx.put(
            f"{server.base_url}/tasks/{gid}",
            json={"data": {"name": f"w{i}"}},
            headers={"Authorization": f"Bearer {server.token}"},
            timeout=10,
        ).status_code

    with ThreadPoolExecutor(6) as pool:
        statuses = list(pool.map(write, range(6)))
    assert statuses.count(429) >= 1 and statuses.count(200) >= 2
    assert server.services.quotas.max_seen_writes <= 2
