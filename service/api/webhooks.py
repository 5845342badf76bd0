"""`POST /webhooks/asana[/{nonce}]`: Asana's handshake and signed event deliveries.

A delivery is acknowledged only after its events are committed to the inbox (with outbox rows):
read the raw body under a size limit, verify the HMAC over exactly those bytes, parse JSON only
then, store in one transaction, answer 200. Nothing here talks to the broker or a model, so the
answer stays fast whether Redis or the workers are up or not; the relay publishes later.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy.exc import SQLAlchemyError
from starlette.routing import Route

from graphs.ports import AuditRecord
from service.api.errors import ApiError, error_response
from service.api.state import ApiState, api_state, log
from service.db.engine import write_session
from service.events.inbox import store_events
from service.events.inbox_async import StorageErrors
from service.events.signature import SignatureProblem, check
from service.events.subscriptions import (
    MAX_SECRET_LEN,
    HandshakeOutcome,
    mark_heartbeat,
    record_handshake,
    touch_delivery,
    valid_nonce,
)
from service.identity import note_events

router = APIRouter(tags=["webhooks"])
ACTOR = "system:webhook"


class WebhookEvent(BaseModel):
    """One compact Asana event; unknown fields are kept as sent."""

    model_config = ConfigDict(extra="allow")

    action: str
    resource: dict[str, Any]


class Delivery(BaseModel):
    events: list[WebhookEvent]


async def _read_body(request: Request, limit: int) -> bytes:
    """The raw body, refused with 413 as soon as it is known to exceed `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise ApiError(413, f"body larger than {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, f"body larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def receive_any(request: Request) -> Response:
    """Deliveries for webhooks registered without a nonce path (any active secret may match)."""
    return await _receive(request, None)


async def receive(request: Request) -> Response:
    nonce = str(request.path_params["nonce"])
    if not valid_nonce(nonce):
        raise ApiError(404, "unknown webhook path")
    return await _receive(request, nonce)


# Plain Starlette routes: the receiver reads its raw body and headers itself, so FastAPI's
# parameter and dependency resolution per request is cost without use (issue 23: ingest against
# its floor). Errors still go through the app's handlers (ApiError → one-line JSON).
router.routes.append(Route("/webhooks/asana", receive_any, methods=["POST"], include_in_schema=False))
router.routes.append(Route("/webhooks/asana/{nonce}", receive, methods=["POST"], include_in_schema=False))


async def _receive(request: Request, nonce: str | None) -> Response:
    state = api_state(request)
    client = state.client(request)
    state.refuse_if_flooding(client)
    hook_secret = request.headers.get("x-hook-secret")
    if hook_secret is not None:
        return await run_in_threadpool(_handshake, state, nonce, hook_secret, client)
    body = await _read_body(request, state.max_body_bytes)
    signature = request.headers.get("x-hook-signature")
    accepted = accepted_from_cache(state, nonce, body, signature)
    if accepted is not None:
        return await store_accepted(state, *accepted)
    # Everything else (secrets to read, refusals and their audit rows, heartbeats, SQLite) blocks,
    # so it runs on the loop's default executor, not anyio's worker threads: a delivery cannot be
    # cancelled half-way anyway (it runs to its commit), and anyio's cancel scope and capacity
    # limiter cost about a tenth of the receiver's CPU per delivery.
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(None, _deliver, state, nonce, body, signature, client)


async def store_accepted(state: ApiState, webhook_gid: str | None, events: list[dict[str, Any]]) -> Response:
    """Store a delivery `accepted_from_cache` let through, in the event loop: a future waits for
    the commit (`AsyncInbox`), not a thread. The webhook's last delivery time, due at most once
    per interval, is written by a worker thread with the events."""
    note_events(events)  # membership/privacy changes: what people can see is read again
    touch = webhook_gid is not None and state.secrets.due_for_touch(webhook_gid)
    inbox = state.inbox
    if touch or inbox is None:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, _store, state, webhook_gid, events, touch)
    try:
        inserted, duplicates = await inbox.store(events, source="webhook", webhook_gid=webhook_gid)
    except StorageErrors as err:
        # Not stored means not acknowledged: Asana retries, and nothing was half-written.
        log.error("webhook delivery not stored: %s", type(err).__name__)
        return error_response(503, "storage unavailable")
    return _stored(state, len(events), inserted, duplicates)


# Bodies parsed in the event loop at most (a bigger one is parsed in a worker thread, so one large
# delivery does not hold up the others).
LOOP_PARSE_BYTES = 64 * 1024


def accepted_from_cache(
    state: ApiState, nonce: str | None, body: bytes, signature: str | None
) -> tuple[str | None, list[dict[str, Any]]] | None:
    """(webhook gid, events) of a delivery signed by a secret already kept in memory, with a valid
    body of at least one event, when the receiver stores from the event loop (Postgres); None for
    everything `_deliver` must decide (no kept secret, a signature that does not match, a
    malformed body, a heartbeat, a large body, SQLite)."""
    candidates = state.secrets.cached(nonce) if state.inbox is not None else None
    if not candidates or len(body) > LOOP_PARSE_BYTES:
        return None
    index, problem = check([secret for _, secret in candidates], body, signature)
    if problem is not None or index is None:
        return None
    events = _parsed_events(body)
    if not events:
        return None
    return candidates[index][0], events


def _parsed_events(body: bytes) -> list[dict[str, Any]] | None:
    """The delivery's events, or None when the body is not a valid delivery. Parsed once: the
    model checks the shape, and the events are stored as they were sent."""
    try:
        parsed = json.loads(body)
        Delivery.model_validate(parsed)
    except (ValueError, ValidationError):
        return None
    events: list[dict[str, Any]] = parsed["events"]
    return events


def _reject(
    state: ApiState, status: int, reason: str, *, nonce: str | None, client: str | None, **details: Any
) -> Response:
    state.metrics.events_rejected.labels(reason).inc()
    state.audit_failure(
        client,
        AuditRecord(
            actor=ACTOR,
            event="webhook.rejected",
            outcome="denied",
            target=f"nonce:{nonce}" if nonce else None,
            reason=reason,
            details={"client": client, **details},
        ),
    )
    message = "invalid signature" if status == 401 else reason.replace("_", " ")
    return error_response(status, message)


def _handshake(state: ApiState, nonce: str | None, secret: str, client: str | None) -> Response:
    if not secret or len(secret) > MAX_SECRET_LEN or not secret.isascii() or not secret.isprintable():
        return _reject(state, 400, "malformed_handshake", nonce=nonce, client=client)
    if nonce is None:
        # Only registrations we started may hand us a secret (see service.events.subscriptions).
        return _reject(state, 403, "unexpected_handshake", nonce=nonce, client=client)
    try:
        outcome = record_handshake(state.engine, nonce, secret)
    except SQLAlchemyError as err:
        log.error("handshake not stored: %s", type(err).__name__)
        return error_response(503, "storage unavailable")
    if outcome is not HandshakeOutcome.ACCEPTED:
        return _reject(state, 403, f"handshake_{outcome.value}", nonce=nonce, client=client)
    state.audit_quietly(
        AuditRecord(actor=ACTOR, event="webhook.handshake", outcome="ok", target=f"nonce:{nonce}")
    )
    return Response(status_code=200, headers={"X-Hook-Secret": secret})


def _evidence(body: bytes) -> dict[str, Any]:
    """What a refused delivery's audit row records of its body (only refusals pay for the hash)."""
    return {"body_bytes": len(body), "body_sha256": hashlib.sha256(body).hexdigest()}


def _deliver(
    state: ApiState, nonce: str | None, body: bytes, signature: str | None, client: str | None
) -> Response:
    try:
        candidates, fresh = state.secrets.get(nonce)
        index, problem = check([secret for _, secret in candidates], body, signature)
        if problem is SignatureProblem.MISMATCH and not fresh:
            # The cache may predate a new registration: decide on what the database says now.
            candidates, _ = state.secrets.get(nonce, fresh=True)
            index, problem = check([secret for _, secret in candidates], body, signature)
    except SQLAlchemyError as err:
        log.error("webhook secrets unavailable: %s", type(err).__name__)
        return error_response(503, "storage unavailable")
    if not candidates:
        return _reject(state, 401, "unknown_webhook", nonce=nonce, client=client, **_evidence(body))
    if problem is not None or index is None:
        reason = (problem or SignatureProblem.MISMATCH).value
        return _reject(state, 401, reason, nonce=nonce, client=client, **_evidence(body))
    webhook_gid = candidates[index][0]
    events = _parsed_events(body)
    if events is None:
        return _reject(state, 400, "invalid_payload", nonce=nonce, client=client, **_evidence(body))
    note_events(events)  # membership/privacy changes: what people can see is read again
    touch = bool(events) and webhook_gid is not None and state.secrets.due_for_touch(webhook_gid)
    return _store(state, webhook_gid, events, touch)


def _store(state: ApiState, webhook_gid: str | None, events: list[dict[str, Any]], touch: bool) -> Response:
    """Store a verified delivery through the engine (a worker thread's path): its events with
    their outbox rows, or a heartbeat; `touch`: also note the webhook's last delivery time (at most
    once per interval, see `SecretCache.due_for_touch`)."""
    try:
        with write_session(state.engine) as session:
            inserted = duplicates = 0
            if events:
                inserted, duplicates = store_events(
                    session, events, source="webhook", webhook_gid=webhook_gid
                )
            if webhook_gid is not None and not events:
                mark_heartbeat(session, webhook_gid)
            elif webhook_gid is not None and touch:
                touch_delivery(session, webhook_gid)
    except (SQLAlchemyError, *StorageErrors) as err:
        # Not stored means not acknowledged: Asana retries, and nothing was half-written.
        log.error("webhook delivery not stored: %s", type(err).__name__)
        return error_response(503, "storage unavailable")
    if not events:
        return Response(b'{"status":"heartbeat"}', status_code=200, media_type="application/json")
    return _stored(state, len(events), inserted, duplicates)


def _stored(state: ApiState, received: int, inserted: int, duplicates: int) -> Response:
    state.metrics.events_received.labels("webhook").inc(received)
    if duplicates:
        state.metrics.events_deduplicated.inc(duplicates)
    return Response(
        f'{{"stored":{inserted},"duplicates":{duplicates}}}'.encode(),
        status_code=200,
        media_type="application/json",
    )
