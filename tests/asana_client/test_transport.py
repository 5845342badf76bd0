"""Retry, error mapping, counting and token hygiene, through the real SDK over HTTP."""

from __future__ import annotations

import logging
import socket

import pytest

from tests.asana_client.conftest import TOKEN, FakeTime
from tests.asana_client.fake_asana import FakeAsana, Reply, error, ok
from tools.asana import (
    AsanaClient,
    BadRequest,
    CircuitOpen,
    NotFound,
    RateLimited,
    RetryPolicy,
    ServerError,
    TransportError,
    Unauthorized,
)

TASK = {"gid": "11", "name": "Login page", "resource_type": "task"}


def test_get_429_honours_retry_after_then_succeeds(
    fake: FakeAsana, client: AsanaClient, fake_time: FakeTime
) -> None:
    fake.script(error(429, "rate limited", **{"Retry-After": "3"}), ok(TASK))
    task = client.task("11")
    assert task.name == "Login page"
    assert fake_time.sleeps == [3.0]
    assert client.calls["GET /tasks/{gid}"] == 2
    assert client.calls.retries == 1


def test_post_429_is_retried_too(fake: FakeAsana, client: AsanaClient, fake_time: FakeTime) -> None:
    # The SDK never retries POST; our policy does for 429 because nothing was done.
    story = {"gid": "5", "type": "comment", "text": "hi"}
    fake.script(error(429, "rate limited", **{"Retry-After": "2"}), Reply(201, {"data": story}))
    assert client.add_comment("11", "hi").text == "hi"
    assert fake_time.sleeps == [2.0]
    assert [r.method for r in fake.requests] == ["POST", "POST"]
    assert fake.requests[-1].json == {"data": {"text": "hi"}}
    assert client.calls.writes == 2


def test_5xx_retried_with_backoff_then_succeeds(
    fake: FakeAsana, client: AsanaClient, fake_time: FakeTime
) -> None:
    fake.script(error(503, "unavailable"), error(502, "bad gateway"), ok(TASK))
    assert client.task("11").gid == "11"
    assert len(fake.requests) == 3
    assert len(fake_time.sleeps) == 2
    assert all(0 <= s <= 30 for s in fake_time.sleeps)


def test_persistent_5xx_gives_up_after_max_attempts(fake: FakeAsana, client: AsanaClient) -> None:
    fake.script(Reply(500, {"errors": [{"message": "Server Error", "phrase": "6 sad squid snuggle softly"}]}))
    with pytest.raises(ServerError) as info:
        client.task("11")
    assert info.value.status == 500
    assert "6 sad squid" in info.value.message
    assert info.value.path == "/tasks/11" and info.value.method == "GET"
    assert len(fake.requests) == 4  # max_attempts


def test_4xx_is_not_retried_and_maps_to_typed_errors(fake: FakeAsana, client: AsanaClient) -> None:
    fake.script(error(400, "workspace: Missing input"))
    with pytest.raises(BadRequest, match="workspace: Missing input"):
        client.create_task(name="x")
    assert len(fake.requests) == 1
    fake.script(error(404, "Not found"))
    with pytest.raises(NotFound):
        client.project("99")


def test_token_never_appears_in_errors_or_logs(
    fake: FakeAsana, client: AsanaClient, caplog: pytest.LogCaptureFixture
) -> None:
    fake.script(error(503, f"backend saw Bearer {TOKEN}"), error(401, f"token {TOKEN} is not valid"))
    caplog.set_level(logging.DEBUG)
    with pytest.raises(Unauthorized) as info:
        client.me()
    assert TOKEN not in str(info.value)
    assert TOKEN not in caplog.text
    assert TOKEN not in repr(client)
    assert fake.requests[0].headers["Authorization"] == f"Bearer {TOKEN}"


def test_retry_after_beyond_deadline_surfaces_rate_limited(fake: FakeAsana, fake_time: FakeTime) -> None:
    policy = RetryPolicy(deadline=5, sleep=fake_time.sleep, clock=fake_time.clock)
    with AsanaClient(fake.base_url, TOKEN, retry=policy) as c:
        fake.script(error(429, "rate limited", **{"Retry-After": "60"}))
        with pytest.raises(RateLimited) as info:
            c.task("1")
    assert info.value.retry_after == 60
    assert fake_time.sleeps == []


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_connection_refused_is_retried_then_reported(fake_time: FakeTime) -> None:
    policy = RetryPolicy(max_attempts=3, sleep=fake_time.sleep, clock=fake_time.clock)
    url = f"http://127.0.0.1:{_closed_port()}/api/1.0"
    with AsanaClient(url, TOKEN, retry=policy, breaker=False) as c:
        with pytest.raises(TransportError) as info:
            c.create_task(name="x", workspace_gid="1")  # a refused connect is safe to re-send
        assert c.calls["POST /tasks"] == 3
    assert info.value.safe_to_resend
    assert len(fake_time.sleeps) == 2


def test_circuit_opens_after_repeated_failures(fake: FakeAsana, fake_time: FakeTime) -> None:
    from tools.asana import CircuitBreaker

    policy = RetryPolicy(max_attempts=1, sleep=fake_time.sleep, clock=fake_time.clock)
    breaker = CircuitBreaker(threshold=2, cooldown=30, clock=fake_time.clock)
    with AsanaClient(fake.base_url, TOKEN, retry=policy, breaker=breaker) as c:
        fake.script(error(500, "boom"))
        for _ in range(2):
            with pytest.raises(ServerError):
                c.task("1")
        with pytest.raises(CircuitOpen):
            c.task("1")
        assert len(fake.requests) == 2  # the third call was never sent
        fake_time.now += 31  # cooldown over: one trial goes through and closes the circuit
        fake.script(ok(TASK))
        assert c.task("1").gid == "11"
        assert breaker.state == "closed"
