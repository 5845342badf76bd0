"""Who is calling: the client address (through trusted proxies only) and a limit on failures.

Uvicorn's own proxy-header handling is off (`proxy_headers=False` wherever we serve), so the
socket peer is what `request.client` says; `X-Forwarded-For` is read only when that peer is a
configured trusted proxy (SPRINTPILOT_TRUSTED_PROXIES), taking the right-most address that is not
itself a trusted proxy. Anyone else's header is ignored: an audited IP cannot be made up.

Unauthenticated requests that fail (bad token, bad webhook signature) are counted per client in
a fixed window: the first few of each window are audited, the rest only counted, and past a limit
the client gets 429 without any work or audit row, so nobody can grow the audit log at will.
"""

from __future__ import annotations

import ipaddress
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from fastapi import Request

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(values: Iterable[str]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(v.strip(), strict=False) for v in values if v.strip())


def _trusted(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)


def client_ip(request: Request, trusted: tuple[Network, ...]) -> str | None:
    peer = request.client.host if request.client else None
    if peer is None or not trusted or not _trusted(peer, trusted):
        return peer
    hops = [h.strip() for h in request.headers.get("x-forwarded-for", "").split(",") if h.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, trusted):
            return hop
    return peer


@dataclass
class FailureLimiter:
    """Per-client failure counts in fixed windows (process-local; each API process limits alone)."""

    audit_per_window: int = 5
    block_after: int = 30
    window_s: float = 60.0
    clock: Callable[[], float] = time.monotonic
    _windows: dict[str, tuple[float, int]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    suppressed: int = 0

    def _current(self, client: str) -> tuple[float, int]:
        now = self.clock()
        start, count = self._windows.get(client, (now, 0))
        if now - start >= self.window_s:
            start, count = now, 0
        return start, count

    def blocked(self, client: str | None) -> float | None:
        """Seconds until `client` may try again, or None when it is not blocked."""
        key = client or "?"
        with self._lock:
            start, count = self._current(key)
            if count < self.block_after:
                return None
            return max(1.0, self.window_s - (self.clock() - start))

    def record(self, client: str | None) -> bool:
        """Count one failure; True when it should be audited (the first few of a window)."""
        key = client or "?"
        with self._lock:
            start, count = self._current(key)
            self._windows[key] = (start, count + 1)
            if len(self._windows) > 10_000:  # bound the memory a flood of addresses can take
                self._windows = dict(list(self._windows.items())[-5_000:])
            audit = count < self.audit_per_window
            if not audit:
                self.suppressed += 1
            return audit
