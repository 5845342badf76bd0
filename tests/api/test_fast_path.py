"""The webhook fast path (`service/api/fast_path.py`): what it declines reaches the app unchanged,
and a fault inside it answers like the app does."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine

from service.api import create_api
from service.api.server import BackgroundServer
from service.metrics import create_db_metrics
from service.settings import Settings
from tests.api.conftest import Api, body_of, event, sign

pytestmark = pytest.mark.integration
SECRET = "7a1d0c9e5b3f4a2e8c6d0b1a9f7e5d3c"


@pytest.fixture
def served(settings: Settings, engine: Engine) -> Iterator[tuple[Api, FastAPI]]:
    metrics = create_db_metrics(engine)
    app = create_api(settings, engine=engine, metrics=metrics, max_body_bytes=64 * 1024)
    with BackgroundServer(app) as server:
        yield Api(server.url, engine, settings, metrics), app


def test_a_fault_on_the_fast_path_is_a_json_500_and_stores_nothing(
    served: tuple[Api, FastAPI], monkeypatch: pytest.MonkeyPatch
) -> None:
    api, app = served
    nonce, _ = api.subscribe(SECRET)
    warm = body_of(event("1"))
    assert api.deliver(nonce, warm, sign(SECRET, warm)).status_code == 200  # the secret is kept now

    async def broken(*args: object, **kwargs: object) -> tuple[int, int]:
        raise RuntimeError("a bug")

    monkeypatch.setattr(app.state.api.inbox, "store", broken)
    body = body_of(event("2"))
    reply = api.deliver(nonce, body, sign(SECRET, body))
    assert reply.status_code == 500
    assert reply.json() == {"error": "internal error"}
    assert api.counts() == (1, 1)


def test_what_the_fast_path_declines_reaches_the_app_with_its_body(served: tuple[Api, FastAPI]) -> None:
    """A chunked body, a handshake and an unknown path are the app's; so is a delivery whose
    declared length is past the fast path's limit (the app's own body limit answers 413)."""
    api, app = served
    nonce, _ = api.subscribe(SECRET)
    warm = body_of(event("1"))
    assert api.deliver(nonce, warm, sign(SECRET, warm)).status_code == 200
    body = body_of(event("2"), event("3"))

    def chunks() -> Iterator[bytes]:
        yield body[:10]
        yield body[10:]

    chunked = httpx.post(
        f"{api.url}/webhooks/asana/{nonce}",
        content=chunks(),
        headers={"X-Hook-Signature": sign(SECRET, body), "Content-Type": "application/json"},
        timeout=10,
    )
    assert chunked.status_code == 200, chunked.text
    assert chunked.json() == {"stored": 2, "duplicates": 0}
    big = body_of(*[event(str(n)) for n in range(400)])
    assert len(big) > 64 * 1024
    assert api.deliver(nonce, big, sign(SECRET, big)).status_code == 413
    assert api.deliver("not a nonce!", warm, sign(SECRET, warm)).status_code == 404
    assert httpx.post(f"{api.url}/webhooks/asanaX", content=warm, timeout=10).status_code == 404
    assert api.counts() == (3, 3)


def test_an_error_on_the_apps_path_is_answered_once_by_the_app(
    served: tuple[Api, FastAPI], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A delivery the fast path hands on and the app then fails: one JSON 500 (the app's), and the
    next delivery is served as usual."""
    import service.api.webhooks as webhooks

    api, _ = served
    nonce, _ = api.subscribe(SECRET)
    real = webhooks._deliver

    def failing(*args: object, **kwargs: object) -> object:
        raise RuntimeError("a bug")

    monkeypatch.setattr(webhooks, "_deliver", failing)
    body = body_of(event("1"))
    reply = api.deliver(nonce, body, sign(SECRET, body))  # no secret kept yet: the app's path
    assert reply.status_code == 500
    assert reply.json() == {"error": "internal error"}
    monkeypatch.setattr(webhooks, "_deliver", real)
    assert api.deliver(nonce, body, sign(SECRET, body)).json() == {"stored": 1, "duplicates": 0}
