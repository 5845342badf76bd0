"""Runs one logical Asana call: concurrency slot, counting, error mapping, retries, breaker.

Each SDK call made through `Transport.call` is exactly one HTTP request (the client always passes
`full_payload=True`, so the SDK never paginates on its own); retries re-run that one request.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

import urllib3
from asana.rest import ApiException

from tools.asana.breaker import CircuitBreaker
from tools.asana.counter import CallCounter
from tools.asana.errors import AsanaError, RateLimited, ServerError, TransportError, from_http, redact
from tools.asana.limits import ConcurrencyLimits
from tools.asana.retry import RetryPolicy

log = logging.getLogger("tools.asana")
T = TypeVar("T")


class Transport:
    def __init__(
        self,
        *,
        policy: RetryPolicy,
        limits: ConcurrencyLimits,
        counter: CallCounter,
        breaker: CircuitBreaker | None,
        secrets: tuple[str, ...],
    ) -> None:
        self.policy = policy
        self.limits = limits
        self.counter = counter
        self.breaker = breaker
        self._secrets = secrets

    def call(self, label: str, send: Callable[[], T], **path_params: str) -> T:
        """Send `send()` under the retry policy. `label` is "<METHOD> <path template>"."""
        method, template = label.split(" ", 1)
        path = template.format(**path_params) if path_params else template
        is_write = method != "GET"
        # PUT and DELETE leave the same state when sent twice; a POST may create twice.
        idempotent = method in ("GET", "PUT", "DELETE")
        started = self.policy.clock()
        attempt = 0
        while True:
            attempt += 1
            if self.breaker is not None:
                self.breaker.before_call(method, path)
            try:
                with self.limits.slot(is_write=is_write):
                    self.counter.record(label, is_write=is_write)
                    result = send()
            except ApiException as exc:
                error = self._from_api_exception(exc, method, path)
            except urllib3.exceptions.HTTPError as exc:
                error = self._from_transport(exc, method, path)
            else:
                if self.breaker is not None:
                    self.breaker.record_success()
                return result
            if isinstance(error, RateLimited):
                self.counter.record_rate_limited(label)
            elapsed = self.policy.clock() - started
            wait = self.policy.delay_for(
                error, attempt, is_write=is_write, elapsed=elapsed, idempotent=idempotent
            )
            if wait is None:
                self._give_up(error)
                raise error
            self.counter.record_retry()
            log.info(
                "asana %s %s: %s; retry %d in %.2fs", method, path, error.status or "no answer", attempt, wait
            )
            self.policy.sleep(wait)

    def _give_up(self, error: AsanaError) -> None:
        self.counter.record_error()
        if self.breaker is None:
            return
        if isinstance(error, ServerError | TransportError):
            self.breaker.record_failure()
        elif isinstance(error, RateLimited):
            self.breaker.record_neutral()
        else:
            self.breaker.record_success()  # Asana answered sensibly: it is healthy

    def _from_api_exception(self, exc: ApiException, method: str, path: str) -> AsanaError:
        status = int(exc.status or 0)
        if status == 0:  # the SDK's way of reporting TLS failures
            return TransportError(redact(str(exc.reason), self._secrets), method, path)
        return from_http(
            status, exc.body, exc.headers, method, path, reason=exc.reason, secrets=self._secrets
        )

    def _from_transport(self, exc: urllib3.exceptions.HTTPError, method: str, path: str) -> TransportError:
        reason: BaseException = exc
        if isinstance(exc, urllib3.exceptions.MaxRetryError) and exc.reason is not None:
            reason = exc.reason
        # A connect failure/timeout means the request never reached Asana: safe to re-send anything.
        safe = isinstance(reason, urllib3.exceptions.ConnectTimeoutError)
        text = redact(f"{type(reason).__name__}: {reason}", self._secrets)
        return TransportError(text, method, path, safe_to_resend=safe)
