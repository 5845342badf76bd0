from __future__ import annotations

import json
import time

import pytest

from tests.contract.conftest import Scratch, Target
from tests.contract.receiver import Delivery, Receiver
from tools.asana import AsanaClient, SyncTokenExpired
from tools.asana.signatures import verify

pytestmark = pytest.mark.contract


def _events(d: Delivery) -> list[dict]:  # type: ignore[type-arg]
    return list(json.loads(d.raw)["events"])


def test_webhook_handshake_signed_delivery_and_heartbeat(
    client: AsanaClient, scratch: Scratch, target: Target
) -> None:
    target.require_sandbox("real Asana cannot reach a receiver on localhost (and rejects such targets)")
    project = scratch.project("webhooks")
    with Receiver() as receiver:
        hook, secret = client.create_webhook(project.gid, receiver.url, filters=[{"resource_type": "task"}])
        assert secret and receiver.handshake_secrets == [secret]
        assert hook.active and hook.target == receiver.url
        assert hook.gid in {h.gid for h in client.webhooks(target.workspace_gid)}

        task = scratch.task(project, name="triggers a delivery")
        got = receiver.wait_for(lambda ds: any(_events(d) for d in ds))
        delivery = next(d for d in got if _events(d))
        assert verify(secret, delivery.raw, delivery.signature)
        assert not verify("some-other-secret", delivery.raw, delivery.signature)
        assert not verify(secret, delivery.raw + b" ", delivery.signature)
        assert any(e["resource"]["gid"] == task.gid for e in _events(delivery))

        before = len(receiver.deliveries)
        target.admin("POST", "/heartbeat")
        got = receiver.wait_for(lambda ds: len(ds) > before and any(not _events(d) for d in ds[before:]))
        beat = next(d for d in got[before:] if not _events(d))
        assert json.loads(beat.raw) == {"events": []}
        assert verify(secret, beat.raw, beat.signature)

        client.delete_webhook(hook.gid)
        assert hook.gid not in {h.gid for h in client.webhooks(target.workspace_gid)}


def test_webhook_handshake_failure_fails_create(
    client: AsanaClient, scratch: Scratch, target: Target
) -> None:
    target.require_sandbox("needs an unreachable local target")
    from tools.asana import BadRequest

    project = scratch.project("webhook fail")
    with pytest.raises(BadRequest):
        client.create_webhook(project.gid, "http://127.0.0.1:9/nothing-listens-here")


def test_events_sync_412_then_incremental(client: AsanaClient, scratch: Scratch, target: Target) -> None:
    project = scratch.project("events")
    with pytest.raises(SyncTokenExpired) as info:
        client.events(project.gid)
    sync = info.value.sync
    assert sync

    task = scratch.task(project, name="evented")
    events, deadline = [], time.monotonic() + (1 if target.is_sandbox else 30)
    while True:  # real Asana may take a moment to surface events
        page = client.events(project.gid, sync)
        events += page.events
        sync = page.sync
        if any(e.resource and e.resource.gid == task.gid for e in events) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    added = [e for e in events if e.resource and e.resource.gid == task.gid]
    assert added and added[0].action == "added"
    assert added[0].parent is not None and added[0].parent.gid == project.gid

    client.update_task(task.gid, {"name": "evented, renamed"})
    page = client.events(project.gid, sync)
    for _ in range(0 if target.is_sandbox else 20):
        if page.events:
            break
        time.sleep(0.5)
        page = client.events(project.gid, sync)
    changed = [e for e in page.events if e.action == "changed" and e.resource and e.resource.gid == task.gid]
    assert changed and changed[0].change is not None and changed[0].change.field == "name"
    assert client.events(project.gid, page.sync).events == []  # nothing new since the last token

    with pytest.raises(SyncTokenExpired) as stale:
        client.events(project.gid, "this-token-was-never-issued")
    assert stale.value.sync
