"""`GET /healthz` (the DB decides; Redis is reported, never fatal) and `GET /metrics`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import text

from service.api.state import api_state
from service.metrics import CONTENT_TYPE

router = APIRouter(tags=["ops"])
REDIS_TIMEOUT_S = 0.5


def _redis_status(url: str) -> str:
    import redis

    client = redis.Redis.from_url(url, socket_timeout=REDIS_TIMEOUT_S, socket_connect_timeout=REDIS_TIMEOUT_S)
    try:
        client.ping()
        return "ok"
    except Exception:  # noqa: BLE001 - any failure just means "not reachable now"
        return "unreachable"
    finally:
        client.close()


@router.get("/healthz")
def healthz(request: Request) -> Response:
    state = api_state(request)
    body: dict[str, Any] = {"status": "ok", "db": "ok"}
    try:
        with state.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - reported as a failed check, not a 500
        body.update(status="unavailable", db="unreachable")
    # Ingest never needs Redis, so its absence degrades the report but not the status code.
    body["redis"] = _redis_status(state.settings.redis_url)
    return JSONResponse(body, status_code=200 if body["db"] == "ok" else 503)


@router.get("/metrics")
def metrics(request: Request) -> Response:
    return Response(api_state(request).metrics.render(), media_type=CONTENT_TYPE)
