"""Audited client addresses come only from trusted proxies, and unauthenticated failures cannot
grow the audit log at will (issue 15, reproduction 6)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from service.api import create_api
from service.api.server import BackgroundServer
from service.db.audit import SqlAuditLog
from service.settings import Settings

pytestmark = pytest.mark.integration
BAD = {"Authorization": "Bearer wrong"}
BODY = {"decisions": [{"type": "approve"}], "decided_by": "mallory", "digest": "x"}


@contextmanager
def _serve(settings: Settings, engine: Engine, **update: Any) -> Iterator[str]:
    app = create_api(settings.model_copy(update=update), engine=engine)
    with BackgroundServer(app) as server:
        yield server.url


def _refusals(engine: Engine) -> list[Any]:
    return [r for r in SqlAuditLog(engine).rows(limit=1000) if r.event == "approval.unauthorized"]


def test_x_forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy(
    settings: Settings, engine: Engine
) -> None:
    spoofed = {**BAD, "X-Forwarded-For": "6.6.6.6"}
    with _serve(settings, engine) as url:
        assert httpx.post(f"{url}/approvals/abc", json=BODY, headers=spoofed, timeout=10).status_code == 401
    assert [r.details["client"] for r in _refusals(engine)] == ["127.0.0.1"]

    with _serve(settings, engine, trusted_proxies=["127.0.0.0/8"]) as url:
        chain = {**BAD, "X-Forwarded-For": "6.6.6.6, 10.1.2.3, 127.0.0.1"}
        assert httpx.post(f"{url}/approvals/abc", json=BODY, headers=chain, timeout=10).status_code == 401
    # The right-most address that is not itself a trusted proxy.
    assert _refusals(engine)[0].details["client"] == "10.1.2.3"


def test_a_flood_of_bad_tokens_is_audited_a_few_times_then_refused(
    settings: Settings, engine: Engine
) -> None:
    with _serve(settings, engine) as url, httpx.Client(base_url=url, timeout=10) as client:
        codes = [client.post("/approvals/abc", json=BODY, headers=BAD).status_code for _ in range(40)]
        blocked = client.post("/approvals/abc", json=BODY, headers=BAD)
    assert codes[:30] == [401] * 30 and set(codes[30:]) == {429}
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) >= 1
    assert len(_refusals(engine)) == 5  # the first few per window, not one row per request


def test_a_flood_of_forged_webhook_deliveries_is_bounded_too(settings: Settings, engine: Engine) -> None:
    events = [r for r in SqlAuditLog(engine).rows(limit=1000) if r.event == "webhook.rejected"]
    assert events == []
    with _serve(settings, engine) as url, httpx.Client(base_url=url, timeout=10) as client:
        codes = [
            client.post(
                "/webhooks/asana", content=b'{"events": []}', headers={"X-Hook-Signature": "0" * 64}
            ).status_code
            for _ in range(35)
        ]
    assert 401 in codes and codes[-1] == 429
    events = [r for r in SqlAuditLog(engine).rows(limit=1000) if r.event == "webhook.rejected"]
    assert len(events) == 5
