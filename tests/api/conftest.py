"""Fixtures for the HTTP API: a migrated Postgres database, the API served by uvicorn on a free
loopback port, and helpers to sign and send webhook deliveries the way Asana does."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, select

from service.api import create_api
from service.api.server import BackgroundServer
from service.db import make_engine, migrate
from service.db.events import InboxEvent, OutboxMessage
from service.events.subscriptions import (
    Subscription,
    bind_webhook,
    expect_handshake,
    new_nonce,
    receiver_target,
    record_handshake,
)
from service.metrics import Metrics, create_db_metrics
from service.settings import Settings, load_settings

API_TOKEN = "test-api-token-0123456789"


def sign(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def event(
    task_gid: str = "1001", *, field: str = "name", at: str = "2026-11-20T10:00:00.000Z"
) -> dict[str, Any]:
    return {
        "user": {"gid": "7", "resource_type": "user"},
        "created_at": at,
        "action": "changed",
        "resource": {"gid": task_gid, "resource_type": "task", "resource_subtype": "default_task"},
        "parent": None,
        "change": {"field": field, "action": "changed"},
    }


def body_of(*events: dict[str, Any]) -> bytes:
    return json.dumps({"events": list(events)}, separators=(",", ":")).encode()


@dataclass
class Api:
    url: str
    engine: Engine
    settings: Settings
    metrics: Metrics

    def counts(self) -> tuple[int, int]:
        with self.engine.connect() as conn:
            inbox = conn.execute(select(func.count()).select_from(InboxEvent)).scalar_one()
            outbox = conn.execute(select(func.count()).select_from(OutboxMessage)).scalar_one()
        return int(inbox), int(outbox)

    def subscribe(
        self, secret: str, webhook_gid: str = "9001", resource_gid: str = "500"
    ) -> tuple[str, Subscription]:
        """A stored subscription as `webhooks register` leaves it; returns its nonce path."""
        nonce = new_nonce()
        expect_handshake(self.engine, nonce, receiver_target(self.url, nonce), resource_gid)
        record_handshake(self.engine, nonce, secret)
        sub = bind_webhook(
            self.engine,
            nonce,
            webhook_gid=webhook_gid,
            resource_gid=resource_gid,
            resource_type="project",
            workspace_gid="1",
            create_secret=secret,
        )
        return nonce, sub

    def deliver(
        self, nonce: str | None, body: bytes, signature: str | None, **headers: str
    ) -> httpx.Response:
        path = f"/webhooks/asana/{nonce}" if nonce else "/webhooks/asana"
        sent = {"Content-Type": "application/json", **headers}
        if signature is not None:
            sent["X-Hook-Signature"] = signature
        return httpx.post(self.url + path, content=body, headers=sent, timeout=10)

    def metric(self, name: str, **labels: str) -> float:
        value = self.metrics.registry.get_sample_value(name, labels or None)
        return float(value or 0.0)


# The seeded sandbox's scrum master: decisions on the API are hers (approvers are Asana users).
APPROVER = "priya.brooks@acme.example"


@pytest.fixture
def settings(tmp_path: Path, pg_url: str, redis_db_url: str) -> Settings:
    return load_settings(
        data_dir=tmp_path,
        database_url=pg_url,
        asana_base_url=None,
        model="offline",
        api_token=API_TOKEN,
        redis_url=redis_db_url,
        approvers=[APPROVER],
    )


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    migrate(settings)
    eng = make_engine(settings)
    yield eng
    eng.dispose()


@pytest.fixture
def api(settings: Settings, engine: Engine) -> Iterator[Api]:
    metrics = create_db_metrics(engine)
    app = create_api(settings, engine=engine, metrics=metrics, max_body_bytes=64 * 1024)
    with BackgroundServer(app) as server:
        yield Api(server.url, engine, settings, metrics)
