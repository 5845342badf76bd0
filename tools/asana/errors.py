"""Errors raised by the Asana client.

Every failure that reaches a caller is an `AsanaError` carrying the HTTP status (0 when no HTTP
answer was involved), Asana's own message, and the method + concrete path that failed. The SDK's
`ApiException` (raw bytes body) and urllib3's transport errors are translated here so nothing
above tools/asana/ ever has to know about them. Tokens are scrubbed from every message.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from tools.asana.premium import premium_feature
from tools.errors import UpstreamError, UserError


class AsanaError(UpstreamError):
    """Base class: `status` is the HTTP status, or 0 when the failure was not an HTTP answer.

    An upstream failure by default (the API answers 502); the few a user fixes by changing what
    they asked for are also `UserError`s (listed first among the bases so their status wins).
    """

    def __init__(self, status: int, message: str, method: str = "", path: str = "") -> None:
        self.status = status
        self.message = message
        self.method = method
        self.path = path
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.method} {self.path}".strip()
        code = f" ({self.status})" if self.status else ""
        return f"{where}{code}: {self.message}" if where else f"{self.message}{code}"


class BadRequest(AsanaError):
    """400: Asana rejected the input (missing field, wrong type, bad enum option, link caps...)."""


class Unauthorized(AsanaError):
    """401: the token is missing, invalid or revoked."""


class PaymentRequired(AsanaError):
    """402: the feature needs a paid (premium) Asana plan. Never retried: paying is not a retry.

    `message` names the feature for people ("needs a paid Asana plan: portfolios");
    `asana_message` keeps what Asana said."""

    def __init__(self, status: int, message: str, method: str = "", path: str = "") -> None:
        self.feature = premium_feature(method, path) or (f"{method} {path}".strip() or "this feature")
        self.asana_message = message
        super().__init__(status, f"needs a paid Asana plan: {self.feature}", method, path)


class Forbidden(AsanaError):
    """403: the token may not touch this object (or a locked custom field)."""


class NotFound(AsanaError):
    """404: no such object, or not visible to this token."""


class RateLimited(AsanaError):
    """429 after retries were exhausted (or the wait would pass the call's deadline)."""

    def __init__(
        self, status: int, message: str, method: str = "", path: str = "", retry_after: float | None = None
    ) -> None:
        self.retry_after = retry_after
        super().__init__(status, message, method, path)


class ServerError(AsanaError):
    """5xx after retries were exhausted."""


class TransportError(AsanaError):
    """No HTTP answer at all: connection refused/reset, timeout, TLS failure.

    `safe_to_resend` is True only when the request cannot have reached Asana (connect failed),
    which is what allows a write to be retried.
    """

    def __init__(
        self, message: str, method: str = "", path: str = "", *, safe_to_resend: bool = False
    ) -> None:
        self.safe_to_resend = safe_to_resend
        super().__init__(0, message, method, path)


class CircuitOpen(ServerError):
    """The circuit breaker refused the call without sending it (Asana kept failing)."""


class SyncTokenExpired(AsanaError):
    """412 from the events API: the sync token is missing or too old. `sync` is the fresh token."""

    def __init__(self, sync: str, method: str = "GET", path: str = "/events", message: str = "") -> None:
        self.sync = sync
        super().__init__(412, message or "Sync token invalid or too old", method, path)


class MissingCustomField(UserError, AsanaError):
    """A custom field looked up by name is not set up on the project."""

    def __init__(self, field: str, project: str, available: Iterable[str]) -> None:
        self.field = field
        self.project = project
        self.available = sorted(available)
        shown = ", ".join(repr(n) for n in self.available) or "none"
        super().__init__(0, f"custom field {field!r} is not on project {project}; fields there: {shown}")


class InvalidFieldValue(UserError, AsanaError, ValueError):
    """A human value cannot be encoded for a custom field (wrong type, unknown enum option...)."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(0, f"custom field {field!r}: {message}")


class AmbiguousName(UserError, AsanaError):
    """A lookup by name matched more than one object."""


_BY_STATUS: dict[int, type[AsanaError]] = {
    400: BadRequest,
    401: Unauthorized,
    402: PaymentRequired,
    403: Forbidden,
    404: NotFound,
    429: RateLimited,
}


def redact(text: str, secrets: Iterable[str]) -> str:
    """Replace every secret (token) occurring in `text` so it can never reach logs or messages."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return text


def _decode_body(body: Any) -> dict[str, Any] | None:
    if body is None:
        return None
    try:
        raw = body.decode("utf-8", "replace") if isinstance(body, bytes | bytearray) else str(body)
        parsed = json.loads(raw)
    except (ValueError, TypeError):
        return None
    return parsed if isinstance(parsed, dict) else None


def _message_of(parsed: dict[str, Any] | None, body: Any, reason: str | None) -> str:
    if parsed is not None:
        errors = parsed.get("errors")
        if isinstance(errors, list) and errors:
            parts = []
            for err in errors:
                if isinstance(err, dict) and err.get("message"):
                    phrase = f" [{err['phrase']}]" if err.get("phrase") else ""
                    parts.append(f"{err['message']}{phrase}")
            if parts:
                return "; ".join(parts)
    if isinstance(body, bytes | bytearray) and body:
        return body[:300].decode("utf-8", "replace")
    return reason or "no error message"


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (Asana sends integer seconds); None when absent/garbled."""
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return max(seconds, 0.0)


def from_http(
    status: int,
    body: Any,
    headers: Any,
    method: str,
    path: str,
    *,
    reason: str | None = None,
    secrets: Iterable[str] = (),
) -> AsanaError:
    """Build the right AsanaError subclass from an HTTP error answer."""
    secrets = tuple(secrets)
    parsed = _decode_body(body)
    message = redact(_message_of(parsed, body, reason), secrets)
    if status == 412 and parsed is not None and "sync" in parsed:
        return SyncTokenExpired(str(parsed["sync"]), method, path, message)
    if status == 429:
        header = headers.get("Retry-After") if headers is not None else None
        return RateLimited(status, message, method, path, retry_after=parse_retry_after(header))
    if status >= 500:
        return ServerError(status, message, method, path)
    cls = _BY_STATUS.get(status, AsanaError)
    return cls(status, message, method, path)


# Failures that a later try may not meet: the caller stops and retries (worker backoff, the sweep),
# never records them as a final outcome. CircuitOpen is a ServerError.
TRANSIENT_ERRORS: tuple[type[AsanaError], ...] = (RateLimited, ServerError, TransportError)


def is_transient(err: BaseException) -> bool:
    return isinstance(err, TRANSIENT_ERRORS)
