"""A small circuit breaker: after `threshold` consecutive calls that failed with 5xx or no
answer (after their retries), calls fail fast for `cooldown` seconds; then one trial call is let
through (half-open) and its outcome closes or re-opens the circuit.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from tools.asana.errors import CircuitOpen


class CircuitBreaker:
    def __init__(
        self, threshold: int = 5, cooldown: float = 30.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.threshold = threshold
        self.cooldown = cooldown
        self.clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._trial_in_flight = False
        self._lock = threading.Lock()

    @property
    def state(self) -> str:
        with self._lock:
            return self._state()

    def _state(self) -> str:
        if self._opened_at is None:
            return "closed"
        if self.clock() - self._opened_at >= self.cooldown:
            return "half-open"
        return "open"

    def before_call(self, method: str, path: str) -> None:
        with self._lock:
            state = self._state()
            if state == "closed":
                return
            if state == "half-open" and not self._trial_in_flight:
                self._trial_in_flight = True
                return
            assert self._opened_at is not None
            left = self.cooldown - (self.clock() - self._opened_at)
        raise CircuitOpen(
            503, f"circuit open after repeated Asana failures; retry in {max(left, 0):.0f}s", method, path
        )

    def record_success(self) -> None:
        with self._lock:
            self._failures = 0
            self._opened_at = None
            self._trial_in_flight = False

    def record_failure(self) -> None:
        with self._lock:
            self._failures += 1
            if self._trial_in_flight or self._failures >= self.threshold:
                self._opened_at = self.clock()
            self._trial_in_flight = False

    def record_neutral(self) -> None:
        """A call that ended with a client-side error (4xx): says nothing about Asana's health."""
        with self._lock:
            self._trial_in_flight = False
