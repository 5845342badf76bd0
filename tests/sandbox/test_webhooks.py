"""Webhooks: handshake during create, signed deliveries, heartbeats, filters, propagation, retries."""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any

import asana
import httpx
import pytest
from asana.rest import ApiException

from sandbox.server import SandboxServer

pytestmark = pytest.mark.integration


def _create_hook(
    sdk: asana.ApiClient, resource: str, target: str, filters: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    data: dict[str, Any] = {"resource": resource, "target": target}
    if filters is not None:
        data["filters"] = filters
    return asana.WebhooksApi(sdk).create_webhook({"data": data}, {}, full_payload=True)  # type: ignore[no-any-return]


def _valid(secret: str, body: bytes, signature: str) -> bool:
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


def test_handshake_and_signed_delivery(sdk: asana.ApiClient, mini, receiver, server: SandboxServer) -> None:  # type: ignore[no-untyped-def]
    created = _create_hook(sdk, mini.project, receiver.url)
    secret = created["X-Hook-Secret"]
    assert receiver.handshakes == [secret]  # the handshake happened while create was in flight
    assert created["data"]["active"] is True and created["data"]["resource"]["gid"] == mini.project
    task = asana.TasksApi(sdk).create_task({"data": {"name": "Hooked", "projects": [mini.project]}}, {})
    deliveries = receiver.wait_for(
        lambda ds: any(e["resource"]["gid"] == task["gid"] for d in ds for e in d.events)
    )
    delivery = deliveries[0]
    signature = delivery.headers["X-Hook-Signature"]
    assert _valid(secret, delivery.body, signature)
    assert not _valid("another-secret", delivery.body, signature)
    event = next(e for e in delivery.events if e["resource"]["gid"] == task["gid"])
    assert event["action"] == "added"
    assert event["parent"] == {"gid": mini.project, "resource_type": "project"}
    assert event["user"] == {"gid": mini.users["bot"], "resource_type": "user"}
    assert event["resource"] == {
        "gid": task["gid"],
        "resource_type": "task",
        "resource_subtype": "default_task",
    }
    assert event["created_at"].endswith("Z")
    hook = asana.WebhooksApi(sdk).get_webhook(created["data"]["gid"], {"opt_fields": "last_success_at"})
    assert hook["last_success_at"] is not None


def test_handshake_failure_rejects_create(sdk: asana.ApiClient, mini, receiver) -> None:  # type: ignore[no-untyped-def]
    receiver.echo_secret = False
    with pytest.raises(ApiException) as exc:
        _create_hook(sdk, mini.project, receiver.url)
    assert exc.value.status == 400
    assert mini.store.webhooks == {}
    with pytest.raises(ApiException) as exc:
        _create_hook(sdk, mini.project, "http://127.0.0.1:9/unreachable")
    assert exc.value.status == 400


def test_heartbeat_is_empty_and_signed(sdk: asana.ApiClient, mini, receiver, server: SandboxServer) -> None:  # type: ignore[no-untyped-def]
    secret = _create_hook(sdk, mini.project, receiver.url)["X-Hook-Secret"]
    response = httpx.post(
        f"{server.root_url}/__sandbox/heartbeat", headers={"Authorization": f"Bearer {mini.token}"}
    )
    assert response.json()["data"]["queued"] == 1
    beat = receiver.wait_for(lambda ds: len(ds) >= 1)[0]
    assert beat.body == b'{"events":[]}'
    assert _valid(secret, beat.body, beat.headers["X-Hook-Signature"])


def test_filters_and_field_changes(sdk: asana.ApiClient, mini, receiver) -> None:  # type: ignore[no-untyped-def]
    _create_hook(
        sdk,
        mini.project,
        receiver.url,
        [{"resource_type": "task", "action": "changed", "fields": ["assignee"]}],
    )
    tasks = asana.TasksApi(sdk)
    gid = mini.store.project_tasks(mini.project)[0]
    tasks.update_task({"data": {"name": "renamed"}}, gid, {})
    tasks.update_task({"data": {"assignee": mini.users["ana"]}}, gid, {})
    events = [e for d in receiver.wait_for(lambda ds: len(ds) >= 1) for e in d.events]
    time.sleep(0.2)
    events = receiver.events()
    assert len(events) == 1
    assert events[0]["change"] == {
        "field": "assignee",
        "action": "changed",
        "new_value": {"gid": mini.users["ana"], "resource_type": "user"},
    }


def test_workspace_webhook_needs_filters(sdk: asana.ApiClient, mini, receiver) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ApiException) as exc:
        _create_hook(sdk, mini.ws, receiver.url)
    assert exc.value.status == 400
    with pytest.raises(ApiException):
        _create_hook(
            sdk,
            mini.ws,
            receiver.url,
            [{"resource_type": "project", "action": "changed", "fields": ["name"]}],
        )


def test_story_events_propagate_to_task_and_project(sdk: asana.ApiClient, mini, receiver) -> None:  # type: ignore[no-untyped-def]
    gid = mini.store.project_tasks(mini.project)[0]
    _create_hook(sdk, gid, receiver.url)
    asana.StoriesApi(sdk).create_story_for_task({"data": {"text": "blocked by API"}}, gid, {})
    receiver.wait_for(lambda ds: any(e["resource"]["resource_type"] == "story" for d in ds for e in d.events))
    story_event = next(e for e in receiver.events() if e["resource"]["resource_type"] == "story")
    assert story_event["action"] == "added" and story_event["parent"]["gid"] == gid
    assert story_event["resource"]["resource_subtype"] == "comment_added"


def test_non_2xx_delivery_is_retried(sdk: asana.ApiClient, mini, receiver) -> None:  # type: ignore[no-untyped-def]
    hook = _create_hook(sdk, mini.project, receiver.url)["data"]
    receiver.statuses.extend([500, 404])
    asana.TasksApi(sdk).create_task({"data": {"name": "retry me", "projects": [mini.project]}}, {})
    deliveries = receiver.wait_for(lambda ds: len(ds) >= 3)
    assert deliveries[0].body == deliveries[1].body == deliveries[2].body
    stored = mini.store.webhooks[hook["gid"]]
    assert stored.last_failure_at is not None and stored.last_failure_content.startswith("404")
    deadline = time.monotonic() + 2
    while stored.last_success_at is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert stored.last_success_at is not None and stored.delivery_retry_count == 0


def test_duplicate_and_dropped_deliveries(sdk: asana.ApiClient, mini, receiver, faults) -> None:  # type: ignore[no-untyped-def]
    _create_hook(sdk, mini.project, receiver.url)
    faults(webhook_dup=1.0)
    asana.TasksApi(sdk).create_task({"data": {"name": "twice", "projects": [mini.project]}}, {})
    twice = receiver.wait_for(lambda ds: len(ds) >= 2)
    assert twice[0].body == twice[1].body
    faults(webhook_dup=0.0, webhook_drop=1.0)
    asana.TasksApi(sdk).create_task({"data": {"name": "never", "projects": [mini.project]}}, {})
    time.sleep(0.3)
    assert len(receiver.deliveries) == 2


def test_delete_and_list_webhooks(sdk: asana.ApiClient, mini, receiver) -> None:  # type: ignore[no-untyped-def]
    hook = _create_hook(sdk, mini.project, receiver.url)["data"]
    api = asana.WebhooksApi(sdk)
    assert [h["gid"] for h in api.get_webhooks(mini.ws, {})] == [hook["gid"]]
    api.delete_webhook(hook["gid"])
    assert list(api.get_webhooks(mini.ws, {})) == []


def test_slow_delivery_counts_as_failure_and_is_retried(mini, receiver) -> None:  # type: ignore[no-untyped-def]
    from sandbox.webhooks import WebhookSettings

    from .conftest import make_sdk  # type: ignore[import-not-found]

    settings = WebhookSettings(
        delivery_timeout_s=0.3, retry_base_s=0.05, batch_window_s=0.01, allow_local_targets=True
    )
    with SandboxServer(mini.store, mini.token, webhook_settings=settings) as srv:
        sdk = make_sdk(srv.base_url, srv.token)
        hook = _create_hook(sdk, mini.project, receiver.url)["data"]
        receiver.delays.append(1.0)
        asana.TasksApi(sdk).create_task({"data": {"name": "slow", "projects": [mini.project]}}, {})
        receiver.wait_for(lambda ds: len(ds) >= 2, timeout=5)
        stored = mini.store.webhooks[hook["gid"]]
        deadline = time.monotonic() + 2
        while stored.last_success_at is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert "Timed out" in stored.last_failure_content and stored.last_success_at is not None


def test_periodic_heartbeat(mini, receiver) -> None:  # type: ignore[no-untyped-def]
    from sandbox.webhooks import WebhookSettings

    from .conftest import make_sdk  # type: ignore[import-not-found]

    settings = WebhookSettings(heartbeat_interval_s=0.2, batch_window_s=0.01, allow_local_targets=True)
    with SandboxServer(mini.store, mini.token, webhook_settings=settings) as srv:
        _create_hook(make_sdk(srv.base_url, srv.token), mini.project, receiver.url)
        beats = receiver.wait_for(lambda ds: len(ds) >= 2, timeout=3)
        assert all(b.body == b'{"events":[]}' for b in beats)
