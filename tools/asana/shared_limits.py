"""Asana quotas shared by every process using one token (Celery workers, API, beat), in Redis.

Asana counts per token, not per process, so per-client caps (limits.py) are not enough once
several workers run. This module keeps, under one Redis key prefix per token:
- a sliding one-minute request window (150 free / 1,500 paid; every sent request counts);
- counting semaphores for requests in flight (writes ≤ 15, reads ≤ 50), each slot a lease with an
  expiry so a SIGKILLed worker's slots free themselves after `lease_s`;
- a shared "blocked until" instant, set by whichever process sees a 429 with Retry-After, that
  every process waits out before sending anything.

Plugging in needs no change to the client: `install_shared_limits(client, limiter)` swaps the
client's ConcurrencyLimits for `SharedLimits` (same `slot()` contract) and its RetryPolicy for one
that publishes Retry-After to Redis. Times are wall-clock epoch seconds (comparable across hosts
with synced clocks); `clock`/`sleep` are injectable so tests can use a fake clock.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from tools.asana.errors import AsanaError, RateLimited
from tools.asana.limits import DEFAULT_MAX_READS, DEFAULT_MAX_WRITES, ConcurrencyLimits
from tools.asana.retry import RetryPolicy

WINDOW_S = 60.0
FREE_PER_MINUTE = 150
PAID_PER_MINUTE = 1500

# Sliding window: drop hits older than the window; admit (and record) when under the limit,
# else answer how long until the oldest hit leaves the window.
_WINDOW_LUA = """
local key, now, window, limit, member = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]),
    tonumber(ARGV[3]), ARGV[4]
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
if redis.call('ZCARD', key) < limit then
  redis.call('ZADD', key, now, member)
  redis.call('EXPIRE', key, math.ceil(window) + 5)
  return '0'
end
local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
return tostring(tonumber(oldest[2]) + window - now)
"""

# Semaphore of leases: expired leases (score = expiry) are reclaimed before counting.
_ACQUIRE_LUA = """
local key, now, expiry, limit, member = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]),
    tonumber(ARGV[3]), ARGV[4]
redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
if redis.call('ZCARD', key) < limit then
  redis.call('ZADD', key, expiry, member)
  redis.call('EXPIRE', key, math.ceil(expiry - now) + 5)
  return 1
end
return 0
"""

# Only ever move "blocked until" later: two 429s never shorten each other's wait.
_BLOCK_LUA = """
local key, until_ts, ttl = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2])
local current = tonumber(redis.call('GET', key) or '0')
if until_ts > current then
  redis.call('SET', key, tostring(until_ts), 'EX', math.max(1, math.ceil(ttl)))
end
return redis.call('GET', key)
"""


class QuotaWaitTooLong(RateLimited):
    """The shared quota would make this call wait longer than `max_wait_s`: surfaced, not waited."""


@dataclass
class SharedQuota:
    """The shared state for one token. `redis` is a `redis.Redis` (sync) client."""

    redis: Any
    token: str
    per_minute: int = PAID_PER_MINUTE
    max_reads: int = DEFAULT_MAX_READS
    max_writes: int = DEFAULT_MAX_WRITES
    lease_s: float = 120.0  # > the client's longest request timeout (60 s read)
    poll_s: float = 0.02
    max_wait_s: float = 300.0
    prefix: str = "sprintpilot:asana"
    clock: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep
    _scripts: dict[str, Any] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.per_minute < 1 or self.max_reads < 1 or self.max_writes < 1:
            raise ValueError("quota limits must be at least 1")
        # Keys carry a hash of the token, never the token itself.
        self._tag = hashlib.sha256(self.token.encode()).hexdigest()[:16]
        for name, src in (("window", _WINDOW_LUA), ("acquire", _ACQUIRE_LUA), ("block", _BLOCK_LUA)):
            self._scripts[name] = self.redis.register_script(src)

    def key(self, part: str) -> str:
        return f"{self.prefix}:{self._tag}:{part}"

    # ---- Retry-After ------------------------------------------------------------------------
    def block_for(self, seconds: float) -> float:
        """Record that nobody may call before now + seconds; returns the shared instant."""
        until = self.clock() + max(seconds, 0.0)
        stored = self._scripts["block"](keys=[self.key("blocked_until")], args=[until, seconds + 5])
        return float(stored or until)

    def blocked_for(self) -> float:
        """Seconds left until the shared 429 block ends (0 when not blocked)."""
        raw = self.redis.get(self.key("blocked_until"))
        return max(0.0, float(raw) - self.clock()) if raw else 0.0

    # ---- waiting primitives ----------------------------------------------------------------
    def _wait(self, seconds: float, started: float, what: str) -> None:
        if self.clock() + seconds - started > self.max_wait_s:
            raise QuotaWaitTooLong(
                429, f"shared Asana quota: {what} would wait too long", retry_after=seconds
            )
        self.sleep(seconds)

    def _admit_rate(self, started: float) -> None:
        while True:
            blocked = self.blocked_for()
            if blocked > 0:
                self._wait(blocked, started, "Retry-After")
                continue
            member = f"{self.clock():.6f}:{uuid.uuid4().hex[:8]}"
            wait = float(
                self._scripts["window"](
                    keys=[self.key("window")], args=[self.clock(), WINDOW_S, self.per_minute, member]
                )
            )
            if wait <= 0:
                return
            self._wait(max(wait, self.poll_s), started, "the per-minute quota")

    def _acquire_slot(self, kind: str, limit: int, started: float) -> str:
        member = uuid.uuid4().hex
        while True:
            now = self.clock()
            got = self._scripts["acquire"](
                keys=[self.key(kind)], args=[now, now + self.lease_s, limit, member]
            )
            if int(got) == 1:
                return member
            self._wait(self.poll_s, started, f"a {kind} slot")

    @contextmanager
    def slot(self, *, is_write: bool) -> Iterator[None]:
        """Wait out any shared 429 block, take a minute-window hit and a concurrency lease."""
        started = self.clock()
        kind, limit = ("writes", self.max_writes) if is_write else ("reads", self.max_reads)
        # Quota first, then the lease: a request never holds a slot while it waits out a 429.
        self._admit_rate(started)
        member = self._acquire_slot(kind, limit, started)
        try:
            yield
        finally:
            self.redis.zrem(self.key(kind), member)

    def in_flight(self) -> dict[str, int]:
        now = self.clock()
        return {k: int(self.redis.zcount(self.key(k), now, "+inf")) for k in ("reads", "writes")}

    def reset(self) -> None:
        """Forget all shared state for this token (tests, operator reset)."""
        self.redis.delete(*(self.key(k) for k in ("window", "reads", "writes", "blocked_until")))


class SharedLimits(ConcurrencyLimits):
    """Drop-in for the client's ConcurrencyLimits: local caps plus the shared Redis quota."""

    def __init__(self, quota: SharedQuota) -> None:
        super().__init__(quota.max_reads, quota.max_writes)
        self.quota = quota

    @contextmanager
    def slot(self, *, is_write: bool) -> Iterator[None]:
        with self.quota.slot(is_write=is_write), super().slot(is_write=is_write):
            yield


@dataclass
class SharedRetryPolicy(RetryPolicy):
    """The client's retry policy, plus: a 429's Retry-After blocks every process sharing the token."""

    quota: SharedQuota | None = None

    def delay_for(
        self,
        error: AsanaError,
        attempt: int,
        *,
        is_write: bool,
        elapsed: float,
        idempotent: bool | None = None,
    ) -> float | None:
        if isinstance(error, RateLimited) and self.quota is not None and error.retry_after is not None:
            self.quota.block_for(error.retry_after)
        return super().delay_for(error, attempt, is_write=is_write, elapsed=elapsed, idempotent=idempotent)


def install_shared_limits(client: Any, quota: SharedQuota) -> Any:
    """Make `client` (an AsanaClient) obey `quota`; returns the client.

    Replaces the per-client concurrency caps and retry policy on the client and its transport,
    keeping the policy's other settings (attempts, deadline, sleep/clock for tests).
    """
    old = client.retry
    policy = SharedRetryPolicy(
        max_attempts=old.max_attempts,
        base_delay=old.base_delay,
        max_delay=old.max_delay,
        deadline=old.deadline,
        max_retry_after=old.max_retry_after,
        retry_writes_on_5xx=old.retry_writes_on_5xx,
        sleep=old.sleep,
        clock=old.clock,
        rng=old.rng,
        quota=quota,
    )
    limits = SharedLimits(quota)
    client.retry = policy
    client.limits = limits
    transport = client._transport  # same package: the client's one Transport instance
    transport.policy = policy
    transport.limits = limits
    return client
