"""Bearer-token check for the approvals endpoints (constant-time; disabled without a token)."""

from __future__ import annotations

import hmac

from fastapi import Request

from graphs.ports import AuditRecord
from service.api.errors import ApiError
from service.api.state import api_state


def require_api_token(request: Request) -> None:
    state = api_state(request)
    expected = state.settings.api_token
    if expected is None:
        raise ApiError(503, "the approvals API is disabled: set SPRINTPILOT_API_TOKEN to enable it")
    client = state.client(request)
    state.refuse_if_flooding(client)
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    ok = scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode("utf-8"), expected.get_secret_value().encode("utf-8")
    )
    if not ok:
        if request.method != "GET":
            # An unauthorised attempt to decide is a security event (ASVS 16.3.2).
            state.audit_failure(
                client,
                AuditRecord(
                    actor="system:api",
                    event="approval.unauthorized",
                    outcome="denied",
                    target=request.url.path,
                    details={"client": client},
                ),
            )
        else:
            state.failures.record(client)
        raise ApiError(401, "missing or invalid API token", headers={"WWW-Authenticate": "Bearer"})
