"""Registration and delivery end to end: the sandbox Asana over HTTP handshakes with and delivers
to our API served by uvicorn; `webhooks register|list|delete` drive the same path from the CLI."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import typer
from sqlalchemy import select
from typer.testing import CliRunner

from sandbox.faults import FaultConfig
from sandbox.server import SandboxServer
from sandbox.store import Store
from service.cli.serve import webhooks_app
from service.db.events import InboxEvent, OutboxMessage, WebhookHandshake, WebhookSubscription
from service.events.subscriptions import list_subscriptions, register_webhook
from tests.api.conftest import Api
from tools.asana.client import AsanaClient
from tools.asana.errors import AsanaError

pytestmark = pytest.mark.integration
TOKEN = "tok-webhooks"


@pytest.fixture
def world() -> Iterator[tuple[SandboxServer, dict[str, str]]]:
    s = Store()
    ws = s.add_workspace("Acme").gid
    bot = s.add_user("sprintpilot", "bot@acme.test", workspaces=[ws]).gid
    s.add_token(TOKEN, bot)
    project = s.add_project(ws, "Team backlog").gid
    section = s.add_section(project, "Backlog").gid
    task = s.add_task(ws, "Login page", memberships=[(project, section)]).gid
    with SandboxServer(s, TOKEN, faults=FaultConfig(), allow_local_webhooks=True) as server:
        yield server, {"ws": ws, "project": project, "task": task}


def _wait_for(check: Callable[[], Any], timeout_s: float = 8.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def _inbox(api: Api) -> list[tuple[str | None, str | None, str]]:
    with api.engine.connect() as conn:
        rows = conn.execute(select(InboxEvent.resource_gid, InboxEvent.action, InboxEvent.dedup_key))
        return [(r[0], r[1], r[2]) for r in rows]


def _admin(server: SandboxServer, method: str, path: str, payload: Any = None) -> Any:
    reply = httpx.request(
        method,
        f"{server.root_url}/__sandbox{path}",
        json=payload,
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    reply.raise_for_status()
    return reply.json()


def test_handshake_during_create_stores_the_secret_and_deliveries_land(
    api: Api, world: tuple[SandboxServer, dict[str, str]]
) -> None:
    server, g = world
    with AsanaClient(server.base_url, TOKEN) as client:
        sub = register_webhook(
            client, api.engine, resource_gid=g["project"], receiver_url=api.url, workspace_gid=g["ws"]
        )
        with api.engine.connect() as conn:
            stored = conn.execute(select(WebhookSubscription.secret)).scalar_one()
            handshake_at, pending = conn.execute(
                select(WebhookHandshake.handshake_at, WebhookHandshake.secret)
            ).one()
        hook = server.store.webhooks[sub.webhook_gid]
        assert stored == hook.secret, "the secret the sandbox handshook with is the one we keep"
        assert handshake_at is not None and pending is None
        assert sub.target.startswith(f"{api.url}/webhooks/asana/")

        client.update_task(g["task"], {"name": "Login page v2"})
        # The rename is a task change plus a system story ("changed the name") added to it.
        rows = _wait_for(lambda: [r for r in _inbox(api) if r[1] == "changed"])
        assert [(r[0], r[1]) for r in rows] == [(g["task"], "changed")]
        with api.engine.connect() as conn:
            inbox_ids = sorted(conn.execute(select(InboxEvent.id)).scalars())
            assert sorted(conn.execute(select(OutboxMessage.inbox_id)).scalars()) == inbox_ids
    log = _admin(server, "GET", "/stats")["data"]["webhook_deliveries"]
    deliveries = [d for d in log if d["webhook"] == sub.webhook_gid]
    assert deliveries and all(d["status"] == 200 for d in deliveries)


def test_duplicate_deliveries_from_the_sandbox_are_stored_once(
    api: Api, world: tuple[SandboxServer, dict[str, str]]
) -> None:
    server, g = world
    _admin(server, "PUT", "/faults", {"webhook_dup": 1.0})
    with AsanaClient(server.base_url, TOKEN) as client:
        register_webhook(client, api.engine, resource_gid=g["project"], receiver_url=api.url)
        client.update_task(g["task"], {"name": "Login page v3"})
        stored = _wait_for(lambda: _inbox(api))
        # Every delivery arrives twice; wait for the copies, then check each event is stored once.
        _wait_for(lambda: api.metric("events_received_total", source="webhook") >= 2 * len(_inbox(api)))
        time.sleep(0.3)
    stored = _inbox(api)
    assert len({r[2] for r in stored}) == len(stored) >= 1
    assert api.metric("events_received_total", source="webhook") == 2 * len(stored)
    assert api.metric("events_deduplicated_total") == len(stored)


def test_failed_create_leaves_no_pending_registration(
    api: Api, world: tuple[SandboxServer, dict[str, str]]
) -> None:
    server, _ = world
    with AsanaClient(server.base_url, TOKEN) as client, pytest.raises(AsanaError):
        register_webhook(client, api.engine, resource_gid="999999", receiver_url=api.url)
    with api.engine.connect() as conn:
        assert conn.execute(select(WebhookHandshake)).first() is None
    assert list_subscriptions(api.engine) == []


def test_cli_register_list_delete(
    api: Api, world: tuple[SandboxServer, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, g = world
    for key, value in {
        "SPRINTPILOT_DATABASE_URL": api.settings.db_url,
        "SPRINTPILOT_DATA_DIR": str(api.settings.data_dir),
        "SPRINTPILOT_ASANA_BASE_URL": server.base_url,
        "SPRINTPILOT_ASANA_TOKEN": TOKEN,
    }.items():
        monkeypatch.setenv(key, value)
    app = typer.Typer()
    app.add_typer(webhooks_app, name="webhooks")
    runner = CliRunner()

    registered = runner.invoke(
        app, ["webhooks", "register", "--project", "Team backlog", "--target", api.url]
    )
    assert registered.exit_code == 0, registered.output
    (sub,) = list_subscriptions(api.engine)
    assert sub.webhook_gid in registered.output and sub.resource_gid == g["project"]

    listed = runner.invoke(app, ["webhooks", "list"], env={"COLUMNS": "250"})
    assert listed.exit_code == 0, listed.output
    assert sub.webhook_gid in listed.output and "true" in listed.output

    deleted = runner.invoke(app, ["webhooks", "delete", sub.webhook_gid])
    assert deleted.exit_code == 0, deleted.output
    assert "deleted in Asana" in deleted.output
    assert list_subscriptions(api.engine) == []
    assert sub.webhook_gid not in server.store.webhooks

    missing = runner.invoke(
        app, ["webhooks", "register", "--project", "No such project", "--target", api.url]
    )
    assert missing.exit_code == 1
    assert "Traceback" not in missing.output
