"""ClientCore: the SDK handle plus the two primitives every operation is built from.

`_one` sends one request and unwraps `data`; `_pages` walks a list endpoint one page (≤100
items) per request. Both always ask the SDK for `full_payload=True`, which sidesteps its
auto-paginating generators (a failure mid-walk would restart from page one under a retry, and
they mutate the caller's opts) and keeps top-level keys such as `X-Hook-Secret` and `sync`.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import re
import threading
from collections.abc import Callable
from typing import Any

from tools.asana.breaker import CircuitBreaker
from tools.asana.counter import CallCounter
from tools.asana.errors import BadRequest
from tools.asana.field_map import FieldMap
from tools.asana.limits import DEFAULT_MAX_READS, DEFAULT_MAX_WRITES, ConcurrencyLimits
from tools.asana.retry import RetryPolicy
from tools.asana.sdk import TokenSource, build_api_client
from tools.asana.snapshot import snapshot_wrote
from tools.asana.transport import Transport

PAGE_SIZE = 100  # Asana's maximum page size
MAX_PAGE_RESTARTS = 2  # walks restarted from page one after an expired offset token
log = logging.getLogger("tools.asana")
Json = dict[str, Any]


class ClientCore:
    def __init__(
        self,
        base_url: str,
        token: TokenSource,
        *,
        retry: RetryPolicy | None = None,
        max_reads: int = DEFAULT_MAX_READS,
        max_writes: int = DEFAULT_MAX_WRITES,
        breaker: CircuitBreaker | None | bool = True,
        request_timeout: tuple[float, float] = (10.0, 60.0),
        page_size: int = PAGE_SIZE,
    ) -> None:
        if not 1 <= page_size <= PAGE_SIZE:
            raise ValueError("page_size must be between 1 and 100")
        self.base_url = base_url.rstrip("/")
        # Who reads (never the token itself): reads kept across handlings are kept per identity.
        self.identity = (
            hashlib.sha256(token.encode()).hexdigest()[:16]
            if isinstance(token, str)
            else f"source-{id(token)}"
        )
        self.page_size = page_size
        self.request_timeout = request_timeout
        self.retry = retry or RetryPolicy()
        self.calls = CallCounter()
        self.limits = ConcurrencyLimits(max_reads, max_writes)
        if breaker is True:
            breaker = CircuitBreaker(clock=self.retry.clock)
        self.breaker: CircuitBreaker | None = breaker or None
        self._api_client = build_api_client(self.base_url, token, pool_size=max_reads + max_writes)
        self._transport = Transport(
            policy=self.retry,
            limits=self.limits,
            counter=self.calls,
            breaker=self.breaker,
            # A token source's tokens never reach an error text: the SDK only puts them in headers.
            secrets=(token,) if isinstance(token, str) else (),
        )
        self._apis: dict[type, Any] = {}
        self._field_maps: dict[str, FieldMap] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:  # never shows the token
        return f"{type(self).__name__}(base_url={self.base_url!r})"

    def close(self) -> None:
        """Release the SDK's thread pool and pooled connections."""
        pool = getattr(self._api_client, "pool", None)
        if pool is not None:
            pool.close()
            pool.join()
            del self._api_client.pool
        self._api_client.rest_client.pool_manager.clear()

    def __enter__(self) -> ClientCore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def forget_field_map(self, project_gid: str | None = None) -> None:
        """Drop cached field maps (one project, or all) after fields were added or changed."""
        with self._lock:
            if project_gid is None:
                self._field_maps.clear()
            else:
                self._field_maps.pop(project_gid, None)

    def api(self, cls: Any) -> Any:
        """One instance per SDK API class (TasksApi, ProjectsApi, ...) sharing our ApiClient."""
        with self._lock:
            instance = self._apis.get(cls)
            if instance is None:
                instance = self._apis[cls] = cls(self._api_client)
        return instance

    @property
    def _kw(self) -> dict[str, Any]:
        return {"full_payload": True, "_request_timeout": self.request_timeout}

    def _payload(self, label: str, send: Callable[[dict[str, Any]], Any], **path: str) -> Json:
        """One request; `send(kwargs)` calls the SDK method with our standard kwargs."""
        writes = not label.startswith("GET ")
        if writes:
            snapshot_wrote()  # nothing read before a write answers a read after it
        try:
            result = self._transport.call(label, lambda: send(self._kw), **path)
        finally:
            if writes:
                snapshot_wrote()
        return result if isinstance(result, dict) else {}

    def _one(self, label: str, send: Callable[[dict[str, Any]], Any], **path: str) -> Json:
        data = self._payload(label, send, **path).get("data")
        return data if isinstance(data, dict) else {}

    def _pages(
        self,
        label: str,
        send: Callable[[dict[str, Any], dict[str, Any]], Any],
        opt_fields: str | None,
        query: dict[str, Any] | None = None,
        **path: str,
    ) -> list[Json]:
        """All items of a list endpoint; `send(opts, kwargs)` fetches one page."""
        opts: dict[str, Any] = {"limit": self.page_size}
        for key, value in (query or {}).items():
            # The SDK would send Python's str(True) == "True"; Asana expects JSON-style booleans.
            opts[key] = ("true" if value else "false") if isinstance(value, bool) else value
        if opt_fields:
            opts["opt_fields"] = opt_fields
        items: list[Json] = []
        seen: set[str] = set()
        restarts = 0
        while True:
            page_opts = dict(opts)  # the SDK writes into opts; never let it touch ours
            try:
                page = self._payload(label, functools.partial(send, page_opts), **path)
            except BadRequest as err:
                # Asana's offset tokens expire: walk again from page one (items already kept are
                # dropped by gid), a bounded number of times so a persistent 400 still surfaces.
                if "offset" not in opts or restarts >= MAX_PAGE_RESTARTS or not offset_expired(err):
                    raise
                restarts += 1
                log.warning(
                    "asana %s: %s; restarting the walk from page one (%d)", label, err.message, restarts
                )
                opts.pop("offset")
                continue
            data = page.get("data") or []
            for d in data:
                if not isinstance(d, dict):
                    continue
                gid = d.get("gid")
                if isinstance(gid, str):
                    if gid in seen:
                        continue
                    seen.add(gid)
                items.append(d)
            next_page = page.get("next_page")
            offset = next_page.get("offset") if isinstance(next_page, dict) else None
            if not offset:
                return items
            opts["offset"] = offset


_OFFSET_EXPIRED = re.compile(r"(pagination token|offset).*(invalid|expired)", re.IGNORECASE)


def offset_expired(err: BadRequest) -> bool:
    """A 400 saying the `offset` pagination token is invalid or has expired."""
    return bool(_OFFSET_EXPIRED.search(err.message))
