"""Input hardening of the HTTP API (issue 18, "Inputs"): a body limit on every route that acts
before authentication and body parsing, and no database error text (SQL, parameters) in answers."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import exc

from service.api import create_api
from service.api.chat import include_chat
from service.runtime import Runtime
from service.settings import load_settings

LIMIT = 64 * 1024
CHUNK = 16 * 1024


@pytest.fixture
def app(tmp_path: Path) -> FastAPI:
    settings = load_settings(data_dir=tmp_path, asana_base_url=None, model="offline", api_token="tok")

    @contextmanager
    def factory() -> Iterator[Runtime]:
        raise exc.DataError(
            "INSERT INTO proposals (title) VALUES (%(title)s)", {"title": "secret a\x00b"}, ValueError("NUL")
        )
        yield  # pragma: no cover

    api = create_api(settings, runtime_factory=factory, max_body_bytes=LIMIT)
    include_chat(api, factory)
    return api


def _call(
    app: FastAPI, path: str, headers: list[tuple[bytes, bytes]], chunks: Iterator[bytes]
) -> tuple[int, int]:
    """POST through the whole ASGI app; (status, how many body chunks the app pulled)."""
    pulled = 0
    status: list[int] = []

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        chunk = next(chunks, None)
        if chunk is None:
            return {"type": "http.request", "body": b"", "more_body": False}
        pulled += 1
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver"), (b"content-type", b"application/json"), *headers],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
        "app": app,
    }
    asyncio.run(app(scope, receive, send))  # type: ignore[arg-type]
    return status[0], pulled


def _endless() -> Iterator[bytes]:
    while True:
        yield b" " * CHUNK


@pytest.mark.parametrize("path", ["/chat", "/approvals/abc", "/webhooks/asana", "/no-such-route"])
def test_a_declared_length_over_the_limit_is_refused_before_authentication(app: FastAPI, path: str) -> None:
    status, pulled = _call(app, path, [(b"content-length", b"150000000")], _endless())
    assert status == 413
    assert pulled == 0  # not one byte read


@pytest.mark.parametrize("path", ["/chat", "/approvals/abc"])
def test_a_chunked_body_is_cut_at_the_limit(app: FastAPI, path: str) -> None:
    status, pulled = _call(app, path, [(b"transfer-encoding", b"chunked")], _endless())
    assert status == 413
    assert pulled <= LIMIT // CHUNK + 1


def test_a_body_under_the_limit_still_meets_authentication(app: FastAPI) -> None:
    body = json.dumps({"message": "hi", "user": "priya.brooks@acme.example"}).encode()
    status, _ = _call(app, "/chat", [(b"content-length", str(len(body)).encode())], iter([body]))
    assert status == 401


def test_an_invalid_content_length_is_refused(app: FastAPI) -> None:
    status, pulled = _call(app, "/chat", [(b"content-length", b"12x")], _endless())
    assert (status, pulled) == (400, 0)


def test_a_database_error_in_chat_never_reaches_the_client(app: FastAPI) -> None:
    with TestClient(app) as client:
        reply = client.post(
            "/chat",
            json={"message": "triage", "user": "priya.brooks@acme.example"},
            headers={"Authorization": "Bearer tok"},
        )
    assert reply.status_code == 500  # before the stream starts, with the same words
    assert "internal error" in reply.text
    assert "INSERT" not in reply.text and "secret" not in reply.text and "DataError" not in reply.text
