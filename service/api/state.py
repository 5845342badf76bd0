"""What every route needs, built once per app by `create_api` and kept on `app.state`."""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from fastapi import Request
from sqlalchemy import Engine

from graphs.ports import AuditRecord
from service.api.clients import FailureLimiter, client_ip, parse_networks
from service.api.errors import ApiError
from service.api.secrets_cache import SecretCache
from service.db.audit import SqlAuditLog
from service.events.inbox_async import AsyncInbox
from service.metrics import Metrics
from service.settings import Settings

if TYPE_CHECKING:
    from service.runtime import Runtime

log = logging.getLogger("sprintpilot.api")

RuntimeFactory = Callable[[], AbstractContextManager["Runtime"]]
DEFAULT_MAX_BODY_BYTES = 1024 * 1024


@dataclass
class ApiState:
    settings: Settings
    engine: Engine
    metrics: Metrics
    audit: SqlAuditLog
    runtime_factory: RuntimeFactory
    secrets: SecretCache
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    failures: FailureLimiter = field(default_factory=FailureLimiter)
    # Where the webhook receiver stores deliveries (Postgres: a psycopg pool of its own); None:
    # `engine` itself.
    inbox: AsyncInbox | None = None  # Postgres: deliveries stored from the event loop

    def client(self, request: Request) -> str | None:
        """The caller's address, through trusted proxies only."""
        return client_ip(request, parse_networks(self.settings.trusted_proxies))

    def refuse_if_flooding(self, client: str | None) -> None:
        """429 for a client past its failure limit: no work, no audit row."""
        wait = self.failures.blocked(client)
        if wait is not None:
            raise ApiError(
                429, "too many failed attempts; try again later", headers={"Retry-After": str(int(wait))}
            )

    def audit_failure(self, client: str | None, record: AuditRecord) -> None:
        """Count an unauthenticated failure; audit only the first few per client and window."""
        if self.failures.record(client):
            self.audit_quietly(record)

    def audit_quietly(self, record: AuditRecord) -> None:
        """Append a security event; a failing audit write must not turn a 401 into a 500."""
        try:
            self.audit.append(record)
        except Exception as err:  # noqa: BLE001 - logged, and the response stays the same
            log.error("could not audit %s: %s", record.event, type(err).__name__)


def api_state(request: Request) -> ApiState:
    state: ApiState = request.app.state.api
    return state
