"""Request counters of the sandbox (total requests, mutating requests by method + path template).

Tests use these to prove "no Asana writes before approval": `stats.mutating_total()` must stay 0.
"""

from __future__ import annotations

import threading
from collections import Counter, deque
from dataclasses import dataclass
from typing import Any

MUTATING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class RequestLogEntry:
    method: str
    template: str
    path: str
    status: int
    token_user: str | None


class RequestStats:
    """Thread-safe counters; admin endpoints (`/__sandbox/...`) are not counted."""

    def __init__(self, log_size: int = 1000) -> None:
        self._lock = threading.Lock()
        self._log_size = log_size
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.total = 0
            self.by_route: Counter[str] = Counter()
            self.mutating: Counter[str] = Counter()
            self.by_status: Counter[int] = Counter()
            self.log: deque[RequestLogEntry] = deque(maxlen=self._log_size)

    def record(self, method: str, template: str, path: str, status: int, token_user: str | None) -> None:
        key = f"{method} {template}"
        with self._lock:
            self.total += 1
            self.by_route[key] += 1
            self.by_status[status] += 1
            if method in MUTATING_METHODS:
                self.mutating[key] += 1
            self.log.append(RequestLogEntry(method, template, path, status, token_user))

    def mutating_total(self) -> int:
        with self._lock:
            return sum(self.mutating.values())

    def count(self, method: str, template: str) -> int:
        with self._lock:
            return self.by_route.get(f"{method} {template}", 0)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "total": self.total,
                "mutating_total": sum(self.mutating.values()),
                "by_route": dict(sorted(self.by_route.items())),
                "mutating": dict(sorted(self.mutating.items())),
                "by_status": {str(k): v for k, v in sorted(self.by_status.items())},
                "recent": [
                    {"method": e.method, "template": e.template, "path": e.path, "status": e.status}
                    for e in list(self.log)[-50:]
                ],
            }
