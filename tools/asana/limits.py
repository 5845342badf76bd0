"""Per-client caps on requests in flight, mirroring Asana's concurrency limits (GET 50, writes 15).

A request holds a slot only while it is on the wire, never while backing off, so a client
that is waiting out a 429 does not starve its other threads.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

DEFAULT_MAX_READS = 50
DEFAULT_MAX_WRITES = 15


class ConcurrencyLimits:
    def __init__(self, max_reads: int = DEFAULT_MAX_READS, max_writes: int = DEFAULT_MAX_WRITES) -> None:
        if max_reads < 1 or max_writes < 1:
            raise ValueError("concurrency limits must be at least 1")
        self.max_reads = max_reads
        self.max_writes = max_writes
        self._reads = threading.BoundedSemaphore(max_reads)
        self._writes = threading.BoundedSemaphore(max_writes)
        self._lock = threading.Lock()
        self.in_flight = {"read": 0, "write": 0}
        self.peak = {"read": 0, "write": 0}

    @contextmanager
    def slot(self, *, is_write: bool) -> Iterator[None]:
        sem, kind = (self._writes, "write") if is_write else (self._reads, "read")
        with sem:
            with self._lock:
                self.in_flight[kind] += 1
                self.peak[kind] = max(self.peak[kind], self.in_flight[kind])
            try:
                yield
            finally:
                with self._lock:
                    self.in_flight[kind] -= 1
