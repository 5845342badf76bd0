"""Asana-Change response headers: each announced breaking change is logged once per process.

Asana announces a deprecation by adding `Asana-Change: name=<change>;info=<url>[;affected=true]`
to its responses (one header per ongoing change) for months; logging it per request would flood
the logs, so each distinct (change, affected) pair is logged once at WARNING with its info link.
The hook wraps the SDK's REST client, the one place every response (and error) passes through.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from asana.rest import ApiException

log = logging.getLogger("tools.asana")

HEADER = "Asana-Change"
_seen: set[tuple[str, bool]] = set()
_lock = threading.Lock()


def parse_change(value: str) -> dict[str, str]:
    """`name=x;info=https://…;affected=true` -> {"name": "x", "info": "https://…", "affected": "true"}."""
    fields: dict[str, str] = {}
    for part in value.split(";"):
        key, sep, val = part.strip().partition("=")
        if sep and key:
            fields[key.strip().lower()] = val.strip()
    return fields


def _values(headers: Any) -> Iterable[str]:
    if headers is None:
        return ()
    getlist = getattr(headers, "getlist", None)  # urllib3's HTTPHeaderDict keeps repeated headers
    if callable(getlist):
        raw = list(getlist(HEADER))
    elif isinstance(headers, Mapping):
        raw = [v for k, v in headers.items() if str(k).lower() == HEADER.lower()]
    else:
        return ()
    # A client may also have folded repeated headers into one, comma-separated.
    return [piece for value in raw for piece in str(value).split(",") if piece.strip()]


def note_changes(headers: Any) -> None:
    """Log the Asana-Change headers of one response that this process has not logged yet."""
    for value in _values(headers):
        change = parse_change(value)
        name = change.get("name")
        if not name:
            continue
        affected = change.get("affected", "").lower() == "true"
        with _lock:
            if (name, affected) in _seen:
                continue
            _seen.add((name, affected))
        log.warning(
            "Asana API change %r is under way%s; see %s",
            name,
            " and affects requests sprintpilot makes" if affected else "",
            change.get("info") or "https://developers.asana.com/docs/deprecations",
        )


def forget_changes() -> None:
    """Tests: log every change again."""
    with _lock:
        _seen.clear()


def watch_responses(rest_client: Any) -> None:
    """Make `rest_client` (the SDK's RESTClientObject) report each response's headers."""
    send = rest_client.request

    def request(*args: Any, **kwargs: Any) -> Any:
        try:
            response = send(*args, **kwargs)
        except ApiException as exc:
            note_changes(exc.headers)
            raise
        getheaders = getattr(response, "getheaders", None)  # RESTResponse; raw urllib3 otherwise
        note_changes(getheaders() if callable(getheaders) else getattr(response, "headers", None))
        return response

    rest_client.request = request
