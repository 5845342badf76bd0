from __future__ import annotations

import random

import pytest

from tools.asana.errors import BadRequest, NotFound, RateLimited, ServerError, TransportError
from tools.asana.retry import RetryPolicy


def policy(**kw: object) -> RetryPolicy:
    return RetryPolicy(rng=random.Random(1), **kw)  # type: ignore[arg-type]


def test_429_waits_exactly_retry_after_on_reads_and_writes() -> None:
    p = policy()
    err = RateLimited(429, "slow down", retry_after=7)
    assert p.delay_for(err, 1, is_write=False, elapsed=0) == 7
    assert p.delay_for(err, 1, is_write=True, elapsed=0) == 7


def test_429_without_retry_after_backs_off() -> None:
    p = policy(base_delay=1.0)
    wait = p.delay_for(RateLimited(429, "x"), 1, is_write=False, elapsed=0)
    assert wait is not None and 0 <= wait <= 1.0


def test_429_longer_than_deadline_or_cap_is_raised_not_waited() -> None:
    assert (
        policy(deadline=10).delay_for(RateLimited(429, "x", retry_after=30), 1, is_write=False, elapsed=0)
        is None
    )
    assert (
        policy(max_retry_after=5).delay_for(
            RateLimited(429, "x", retry_after=6), 1, is_write=False, elapsed=0
        )
        is None
    )


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_backoff_is_full_jitter_within_exponential_window(status: int) -> None:
    p = policy(base_delay=0.5, max_delay=3.0, max_attempts=10, deadline=1e9)
    for attempt in range(1, 8):
        window = min(3.0, 0.5 * 2 ** (attempt - 1))
        waits = [p.delay_for(ServerError(status, "x"), attempt, is_write=False, elapsed=0) for _ in range(50)]
        assert all(w is not None and 0 <= w <= window for w in waits)
        assert max(w for w in waits if w is not None) > window / 2  # really spread over the window


def test_other_statuses_are_never_retried() -> None:
    p = policy()
    assert p.delay_for(BadRequest(400, "x"), 1, is_write=False, elapsed=0) is None
    assert p.delay_for(NotFound(404, "x"), 1, is_write=False, elapsed=0) is None
    assert p.delay_for(ServerError(501, "not implemented"), 1, is_write=False, elapsed=0) is None


def test_attempts_are_bounded() -> None:
    p = policy(max_attempts=3)
    assert p.delay_for(ServerError(503, "x"), 2, is_write=False, elapsed=0) is not None
    assert p.delay_for(ServerError(503, "x"), 3, is_write=False, elapsed=0) is None


def test_writes_are_resent_only_when_the_request_cannot_have_arrived() -> None:
    p = policy()
    maybe_arrived = TransportError("read timeout", safe_to_resend=False)
    never_arrived = TransportError("connection refused", safe_to_resend=True)
    assert p.delay_for(maybe_arrived, 1, is_write=True, elapsed=0) is None
    assert p.delay_for(maybe_arrived, 1, is_write=False, elapsed=0) is not None
    assert p.delay_for(never_arrived, 1, is_write=True, elapsed=0) is not None


def test_5xx_on_writes_can_be_switched_off() -> None:
    p = policy(retry_writes_on_5xx=False)
    assert p.delay_for(ServerError(503, "x"), 1, is_write=True, elapsed=0) is None
    assert p.delay_for(ServerError(503, "x"), 1, is_write=False, elapsed=0) is not None
