"""Counts of HTTP requests sent to Asana, by endpoint, so tests and benchmarks can assert on cost.

Every attempt is counted (a retried call counts twice): that is what Asana's rate limiter counts.
Labels are "<METHOD> <path template>", e.g. "GET /projects/{gid}/tasks".
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CallSnapshot:
    by_method: dict[str, int]
    reads: int
    writes: int
    retries: int
    errors: int

    @property
    def total(self) -> int:
        return self.reads + self.writes


@dataclass
class CallCounter:
    by_method: Counter[str] = field(default_factory=Counter)
    reads: int = 0
    writes: int = 0
    retries: int = 0
    errors: int = 0
    rate_limited: int = 0
    # Called with ("call", label) per request and ("429", label) per rate-limited answer, e.g. to
    # add this process's calls to totals shared across processes (service/metrics.py).
    listeners: list[Callable[[str, str], None]] = field(default_factory=list, repr=False, compare=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def record(self, label: str, *, is_write: bool) -> None:
        with self._lock:
            self.by_method[label] += 1
            if is_write:
                self.writes += 1
            else:
                self.reads += 1
        self._notify("call", label)

    def record_rate_limited(self, label: str) -> None:
        with self._lock:
            self.rate_limited += 1
        self._notify("429", label)

    def _notify(self, event: str, label: str) -> None:
        for listener in self.listeners:
            try:
                listener(event, label)
            except Exception:  # noqa: BLE001 - metrics must never break an Asana call
                log.debug("call listener failed", exc_info=True)

    def record_retry(self) -> None:
        with self._lock:
            self.retries += 1

    def record_error(self) -> None:
        with self._lock:
            self.errors += 1

    @property
    def total(self) -> int:
        return self.reads + self.writes

    def __getitem__(self, label: str) -> int:
        return self.by_method.get(label, 0)

    def matching(self, fragment: str) -> int:
        """Requests whose label contains `fragment` (e.g. "/tasks")."""
        with self._lock:
            return sum(n for label, n in self.by_method.items() if fragment in label)

    def reset(self) -> None:
        with self._lock:
            self.by_method.clear()
            self.reads = self.writes = self.retries = self.errors = 0

    def snapshot(self) -> CallSnapshot:
        with self._lock:
            return CallSnapshot(dict(self.by_method), self.reads, self.writes, self.retries, self.errors)
