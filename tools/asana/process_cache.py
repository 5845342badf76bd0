"""Reads kept in the process for a while, per Asana (issue 23: calls per event).

Some reads change slowly and cost many calls, e.g. every past sprint's tasks, which the dependency
manager reads for the team's pace and its delay model on every event. `ProcessCache` keeps such a
result for `ttl_s` seconds under a key whose first part is the Asana base URL. `forget_asana`
drops everything read through one Asana: a closing runtime calls it, because a later embedded
sandbox may get the same address back with other data.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from tools.asana.task_index import PROJECT_TASKS

V = TypeVar("V")
_CACHES: list[ProcessCache[object]] = []
# Other process-kept state keyed by an Asana's base URL (e.g. triage's estimator indexes).
_FORGETTERS: list[Callable[[str], None]] = []


def on_forget(forget: Callable[[str], None]) -> None:
    """Have `forget(base_url)` called whenever `forget_asana(base_url)` is."""
    if forget not in _FORGETTERS:
        _FORGETTERS.append(forget)


class ProcessCache(Generic[V]):
    def __init__(
        self, ttl_s: float, max_entries: int = 64, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, Hashable], tuple[float, V]] = {}
        self.hits = 0
        _CACHES.append(self)  # type: ignore[arg-type]  # forget_asana only drops entries

    def get(self, base_url: str, key: Hashable, make: Callable[[], V]) -> V:
        """The value kept for (base_url, key) if younger than the TTL, else `make()` kept. Without
        a base URL (an in-memory reader) nothing is kept: there is no Asana to key it by."""
        if not base_url:
            return make()
        now = self._clock()
        with self._lock:
            found = self._entries.get((base_url, key))
            if found is not None and now - found[0] <= self.ttl_s:
                self.hits += 1
                return found[1]
        value = make()  # outside the lock: a slow read must not hold other keys up
        with self._lock:
            if len(self._entries) >= self.max_entries and (base_url, key) not in self._entries:
                self._entries.pop(next(iter(self._entries)))
            self._entries[(base_url, key)] = (now, value)
        return value

    def forget_key(self, base_url: str, key: Hashable) -> None:
        with self._lock:
            self._entries.pop((base_url, key), None)

    def forget(self, base_url: str) -> None:
        with self._lock:
            for k in [k for k in self._entries if k[0] == base_url]:
                del self._entries[k]


def forget_asana(base_url: str) -> None:
    """Drop every process-kept read of this Asana (project task lists and timed caches)."""
    PROJECT_TASKS.forget(base_url)
    for cache in _CACHES:
        cache.forget(base_url)
    for forget in list(_FORGETTERS):
        forget(base_url)
