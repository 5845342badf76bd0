"""Fault injection: random 429s (with Retry-After), 5xx, latency, duplicate/dropped webhook deliveries.

Syntax of the compact form (CLI `--faults`): comma-separated `key=value`, keys
`429` (probability), `retry_after` (seconds), `5xx` (probability), `latency` (ms),
`dup` (probability of a duplicated webhook delivery), `drop` (probability of a silently dropped
delivery), `seed` (RNG seed), `burst429` / `burst5xx` (the next N requests fail), `methods`
(e.g. `GET+PUT`: only inject HTTP faults on these methods).
Example: ``"429=0.1,5xx=0.05,latency=50,dup=0.1,drop=0.1"``.
"""

from __future__ import annotations

import random
import threading

from pydantic import BaseModel, ConfigDict, Field

_KEYS = {
    "429": "rate_429",
    "retry_after": "retry_after_s",
    "5xx": "rate_5xx",
    "latency": "latency_ms",
    "dup": "webhook_dup",
    "drop": "webhook_drop",
    "seed": "seed",
    "methods": "methods",
    "burst429": "burst_429",
    "burst5xx": "burst_5xx",
}


class FaultConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rate_429: float = Field(default=0.0, ge=0, le=1)
    retry_after_s: int = Field(default=1, ge=0)
    rate_5xx: float = Field(default=0.0, ge=0, le=1)
    status_5xx: int = Field(default=503, ge=500, le=599)
    latency_ms: int = Field(default=0, ge=0)
    webhook_dup: float = Field(default=0.0, ge=0, le=1)
    webhook_drop: float = Field(default=0.0, ge=0, le=1)
    seed: int = 0
    # Deterministic bursts: the next N matching requests get a 429 / 5xx (then the rates apply).
    burst_429: int = Field(default=0, ge=0)
    burst_5xx: int = Field(default=0, ge=0)
    # Empty = every method; otherwise HTTP faults only hit these (webhook faults are unaffected).
    methods: list[str] = Field(default_factory=list)

    @classmethod
    def parse(cls, spec: str | None) -> FaultConfig:
        if not spec:
            return cls()
        values: dict[str, object] = {}
        for part in spec.split(","):
            if not part.strip():
                continue
            key, sep, value = part.partition("=")
            name = _KEYS.get(key.strip())
            if not sep or name is None:
                raise ValueError(f"unknown fault setting {part!r}; keys: {', '.join(_KEYS)}")
            values[name] = [m.upper() for m in value.split("+")] if name == "methods" else value.strip()
        return cls.model_validate(values)


class FaultInjector:
    """Seeded, thread-safe dice for every fault kind; config changeable at runtime."""

    def __init__(self, config: FaultConfig | None = None) -> None:
        self._lock = threading.Lock()
        self.config = config or FaultConfig()
        self._rng = random.Random(self.config.seed)
        self._bursts = {"429": self.config.burst_429, "5xx": self.config.burst_5xx}
        self.injected: dict[str, int] = {"429": 0, "5xx": 0, "dup": 0, "drop": 0}

    def configure(self, config: FaultConfig) -> None:
        with self._lock:
            self.config = config
            self._rng = random.Random(config.seed)
            self._bursts = {"429": config.burst_429, "5xx": config.burst_5xx}

    def _roll(self, probability: float, kind: str) -> bool:
        with self._lock:
            if self._bursts.get(kind, 0) > 0:
                self._bursts[kind] -= 1
                self.injected[kind] += 1
                return True
        if probability <= 0:
            return False
        with self._lock:
            hit = self._rng.random() < probability
            if hit:
                self.injected[kind] += 1
            return hit

    def _applies(self, method: str) -> bool:
        methods = self.config.methods
        return not methods or method.upper() in methods

    def rate_limited(self, method: str) -> bool:
        return self._applies(method) and self._roll(self.config.rate_429, "429")

    def server_error(self, method: str) -> bool:
        return self._applies(method) and self._roll(self.config.rate_5xx, "5xx")

    def latency_s(self, method: str) -> float:
        return self.config.latency_ms / 1000 if self._applies(method) else 0.0

    def duplicate_delivery(self) -> bool:
        return self._roll(self.config.webhook_dup, "dup")

    def drop_delivery(self) -> bool:
        return self._roll(self.config.webhook_drop, "drop")
