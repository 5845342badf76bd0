"""Admin endpoints under `/__sandbox` (not part of Asana's API, never counted in stats).

Auth: any sandbox bearer token, or the app's admin token. The signed attachment download route
needs no token (like Asana's pre-signed storage URLs).
"""

from __future__ import annotations

import hmac
import time
from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError
from starlette.responses import Response

from sandbox.context import bearer_token, json_response
from sandbox.errors import ApiError, bad_request
from sandbox.faults import FaultConfig
from sandbox.premium import plan_of, set_plan
from sandbox.quotas import QuotaConfig
from sandbox.records import Attachment

router = APIRouter(prefix="/__sandbox")


async def require_admin(request: Request) -> Any:
    services = request.app.state.sandbox
    token = bearer_token(request)
    if token is None or not (
        token in services.store.tokens
        or (services.admin_token and hmac.compare_digest(token, services.admin_token))
    ):
        raise ApiError(401, "Not Authorized")
    return services


async def _json(request: Request) -> dict[str, Any]:
    import json

    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        parsed = json.loads(raw)
    except ValueError:
        raise bad_request("Could not parse request data, invalid JSON") from None
    if not isinstance(parsed, dict):
        raise bad_request("Request data must be a JSON object")
    return parsed


@router.get("/faults")
def get_faults(services: Any = Depends(require_admin)) -> Response:
    return json_response(
        {
            "data": {
                **services.faults.config.model_dump(),
                "injected": dict(services.faults.injected),
                "quota": services.quotas.config.model_dump(),
            }
        }
    )


@router.put("/faults")
async def put_faults(request: Request, services: Any = Depends(require_admin)) -> Response:
    """Partial update: keys of FaultConfig, plus `quota` ("free"/"paid"/null or a QuotaConfig dict)."""
    body = await _json(request)
    data = body.get("data", body)
    quota = data.pop("quota", "__unset__") if isinstance(data, dict) else "__unset__"
    try:
        merged = {**services.faults.config.model_dump(), **data}
        config = FaultConfig.model_validate(merged)
        if quota != "__unset__":
            quota_config = (
                QuotaConfig.model_validate(quota) if isinstance(quota, dict) else QuotaConfig.plan(quota)
            )
            services.quotas.configure(quota_config)
    except (ValidationError, ValueError) as err:
        raise bad_request(f"faults: {err}") from None
    services.faults.configure(config)
    return json_response({"data": config.model_dump()})


@router.get("/stats")
def get_stats(services: Any = Depends(require_admin)) -> Response:
    data = services.store.stats.snapshot()
    data["quotas"] = services.quotas.snapshot()
    data["webhook_deliveries"] = services.dispatcher.snapshot()
    data["faults_injected"] = dict(services.faults.injected)
    return json_response({"data": data})


@router.post("/stats/reset")
def reset_stats(services: Any = Depends(require_admin)) -> Response:
    services.store.stats.reset()
    return json_response({"data": {}})


@router.post("/heartbeat")
def heartbeat(request: Request, services: Any = Depends(require_admin)) -> Response:
    webhook = request.query_params.get("webhook")
    return json_response({"data": {"queued": services.dispatcher.heartbeat(webhook)}})


@router.post("/events/expire")
def expire_sync_tokens(services: Any = Depends(require_admin)) -> Response:
    services.events_cursor.expire_all()
    return json_response({"data": {}})


@router.get("/plan")
def get_plan(services: Any = Depends(require_admin)) -> Response:
    return json_response({"data": {"plan": plan_of(services.store)}})


@router.put("/plan")
async def put_plan(request: Request, services: Any = Depends(require_admin)) -> Response:
    """`{"plan": "free"}` makes premium-only endpoints answer 402 (sandbox/premium.py); "paid" undoes it."""
    body = await _json(request)
    data = body.get("data", body)
    try:
        plan = set_plan(services.store, data.get("plan") if isinstance(data, dict) else None)
    except ValueError as err:
        raise bad_request(str(err)) from None
    return json_response({"data": {"plan": plan}})


@router.post("/offsets/expire")
def expire_page_offsets(services: Any = Depends(require_admin)) -> Response:
    """Every page offset issued so far answers 400 "...invalid or has expired." from now on."""
    services.offsets_valid_after_ms = time.time_ns() // 1_000_000 + 1
    return json_response({"data": {}})


@router.get("/state")
def dump_state(services: Any = Depends(require_admin)) -> Response:
    return json_response(services.store.to_json())


@router.get("/attachments/{attachment_gid}/content")
def download_attachment(attachment_gid: str, request: Request) -> Response:
    services = request.app.state.sandbox
    sig = request.query_params.get("sig", "")
    if not hmac.compare_digest(sig, services.sign_download(attachment_gid)):
        raise ApiError(403, "Invalid or expired download signature")
    attachment = services.store.get_typed(attachment_gid, "attachment")
    if not isinstance(attachment, Attachment):
        raise ApiError(404, "Unknown object")
    return Response(
        attachment.content,
        media_type=attachment.content_type,
        headers={"Content-Disposition": f'attachment; filename="{attachment.name}"'},
    )
