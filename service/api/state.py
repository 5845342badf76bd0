"""What every route needs, built once per app by `create_api` and kept on `app.state`."""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from fastapi import Request
from sqlalchemy import Engine

from graphs.ports import AuditRecord
from service.api.secrets_cache import SecretCache
from service.db.audit import SqlAuditLog
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

    def audit_quietly(self, record: AuditRecord) -> None:
        """Append a security event; a failing audit write must not turn a 401 into a 500."""
        try:
            self.audit.append(record)
        except Exception as err:  # noqa: BLE001 - logged, and the response stays the same
            log.error("could not audit %s: %s", record.event, type(err).__name__)


def api_state(request: Request) -> ApiState:
    state: ApiState = request.app.state.api
    return state
