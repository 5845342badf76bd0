"""Per-token quotas like Asana's: requests per minute (free 150 / paid 1,500, sliding window,
rejected requests count too) and concurrent requests (reads 50, writes 15, independent)."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

from pydantic import BaseModel, Field

PLANS = {"free": 150, "paid": 1500}
WINDOW_S = 60.0


class QuotaConfig(BaseModel):
    enabled: bool = False
    per_minute: int = Field(default=1500, ge=1)
    concurrent_reads: int = Field(default=50, ge=1)
    concurrent_writes: int = Field(default=15, ge=1)

    @classmethod
    def plan(cls, name: str | None) -> QuotaConfig:
        if not name:
            return cls()
        if name not in PLANS:
            raise ValueError(f"unknown quota plan {name!r}; use one of {sorted(PLANS)}")
        return cls(enabled=True, per_minute=PLANS[name])


class QuotaTracker:
    def __init__(
        self, config: QuotaConfig | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._lock = threading.Lock()
        self.config = config or QuotaConfig()
        self._clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._reads: dict[str, int] = {}
        self._writes: dict[str, int] = {}
        self.max_seen_writes = 0
        self.max_seen_reads = 0

    def configure(self, config: QuotaConfig) -> None:
        with self._lock:
            self.config = config
            self._hits.clear()

    def enter(self, token: str, is_write: bool) -> int | None:
        """Admit the request (returns None) or give the Retry-After seconds of a 429."""
        with self._lock:
            now = self._clock()
            counts = self._writes if is_write else self._reads
            if self.config.enabled:
                hits = self._hits.setdefault(token, deque())
                while hits and hits[0] <= now - WINDOW_S:
                    hits.popleft()
                hits.append(now)  # rejected requests count against the window as well
                if len(hits) > self.config.per_minute:
                    oldest = hits[len(hits) - self.config.per_minute - 1]
                    return max(1, math.ceil(oldest + WINDOW_S - now))
                limit = self.config.concurrent_writes if is_write else self.config.concurrent_reads
                if counts.get(token, 0) >= limit:
                    return 1
            counts[token] = counts.get(token, 0) + 1
            if is_write:
                self.max_seen_writes = max(self.max_seen_writes, counts[token])
            else:
                self.max_seen_reads = max(self.max_seen_reads, counts[token])
            return None

    def leave(self, token: str, is_write: bool) -> None:
        with self._lock:
            counts = self._writes if is_write else self._reads
            counts[token] = max(0, counts.get(token, 0) - 1)

    def snapshot(self) -> dict[str, object]:
        with self._lock:
            return {
                "config": self.config.model_dump(),
                "max_concurrent_writes_seen": self.max_seen_writes,
                "max_concurrent_reads_seen": self.max_seen_reads,
            }
