"""The single retry policy for every Asana call.

The SDK's own urllib3 retry is switched off (see sdk.py) so this is the only layer that retries:
- 429: wait exactly Retry-After, on every method (POST too: a 429 means nothing was done);
- 500/502/503/504: bounded exponential backoff with full jitter for reads and idempotent writes
  (PUT, DELETE); a POST is never re-sent after one: a proxy may have forwarded it before failing,
  and Asana has no idempotency keys, so the caller decides (the executor probes for the object);
- no HTTP answer: retried when the request cannot have reached Asana (connect failures) and, for
  reads and idempotent writes, also on read timeouts/resets;
- any other 4xx: never retried.
All waiting goes through the injected `sleep`/`clock`, so tests run with no real waiting.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from tools.asana.errors import AsanaError, RateLimited, ServerError, TransportError

RETRYABLE_5XX = frozenset({500, 502, 503, 504})


@dataclass
class RetryPolicy:
    max_attempts: int = 5
    base_delay: float = 0.5  # seconds; first backoff window
    max_delay: float = 30.0  # cap on one backoff window
    deadline: float = 120.0  # seconds for one logical call, waits included
    max_retry_after: float = 300.0  # a longer Retry-After than this is surfaced, not waited out
    retry_writes_on_5xx: bool = True
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    rng: random.Random = field(default_factory=random.Random)

    def backoff(self, attempt: int) -> float:
        """Full jitter: uniform in [0, min(max_delay, base * 2**(attempt-1))]."""
        window = min(self.max_delay, self.base_delay * (2 ** max(attempt - 1, 0)))
        return self.rng.uniform(0.0, window)

    def delay_for(
        self,
        error: AsanaError,
        attempt: int,
        *,
        is_write: bool,
        elapsed: float,
        idempotent: bool | None = None,
    ) -> float | None:
        """Seconds to wait before the next attempt, or None when `error` must be raised now.

        `attempt` is the number of attempts already made (1 after the first failure);
        `idempotent` (default: not a write) says whether sending the request twice is harmless.
        """
        resend_ok = (not is_write) if idempotent is None else idempotent
        if attempt >= self.max_attempts:
            return None
        if isinstance(error, RateLimited):
            wait = error.retry_after if error.retry_after is not None else self.backoff(attempt)
            if wait > self.max_retry_after:
                return None
        elif isinstance(error, ServerError):
            if error.status not in RETRYABLE_5XX or not resend_ok:
                return None
            if is_write and not self.retry_writes_on_5xx:
                return None
            wait = self.backoff(attempt)
        elif isinstance(error, TransportError):
            if not resend_ok and not error.safe_to_resend:
                return None
            wait = self.backoff(attempt)
        else:
            return None
        if elapsed + wait > self.deadline:
            return None
        return wait
