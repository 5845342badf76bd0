"""A short-lived, per-process cache of webhook secrets, so a delivery costs one transaction.

A cached entry is trusted for `ttl_s`; a signature that fails against it is re-checked against a
fresh read, so a just-registered webhook works at once. Deleting a subscription takes effect in
other processes within `ttl_s` at most.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import Engine

from service.db.engine import read_session
from service.events.subscriptions import DELIVERY_TOUCH_INTERVAL, candidate_secrets

Candidates = list[tuple[str | None, str]]


class SecretCache:
    def __init__(
        self, engine: Engine, *, ttl_s: float = 5.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.engine = engine
        self.ttl_s = ttl_s
        self.clock = clock
        self._entries: dict[str | None, tuple[float, Candidates]] = {}
        self._touched: dict[str, float] = {}
        self._lock = threading.Lock()

    def cached(self, nonce: str | None) -> Candidates | None:
        """The candidates kept for `nonce` while they are trusted; None means ask `get` (which may
        read the database, so it is not for the event loop)."""
        with self._lock:
            entry = self._entries.get(nonce)
        return entry[1] if entry is not None and entry[0] > self.clock() else None

    def get(self, nonce: str | None, *, fresh: bool = False) -> tuple[Candidates, bool]:
        """The candidates for `nonce` and whether they were just read from the database."""
        now = self.clock()
        if not fresh:
            kept = self.cached(nonce)
            if kept is not None:
                return kept, False
        with read_session(self.engine) as session:
            candidates = candidate_secrets(session, nonce)
        with self._lock:
            if candidates:
                self._entries[nonce] = (now + self.ttl_s, candidates)
            else:
                self._entries.pop(nonce, None)
        return candidates, True

    def due_for_touch(self, webhook_gid: str, interval: timedelta = DELIVERY_TOUCH_INTERVAL) -> bool:
        """True at most once per `interval` per webhook: the caller then refreshes last_delivery_at."""
        now = self.clock()
        with self._lock:
            last = self._touched.get(webhook_gid)
            if last is not None and now - last < interval.total_seconds():
                return False
            self._touched[webhook_gid] = now
            return True
