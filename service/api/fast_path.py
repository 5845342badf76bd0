"""Signed webhook deliveries answered before FastAPI's middleware and routing (issue 23: ingest
against a durable-INSERT floor).

A delivery to `/webhooks/asana[/<nonce>]` whose webhook secret the process already keeps, with a
declared length under `LOOP_PARSE_BYTES`, is verified, parsed and stored here, in the event loop;
the framework's eleven layers of middleware and routers cost about a sixth of the receiver's CPU
per delivery and add nothing to it. Everything else, a delivery this path declines included, goes
through the app as before with the body it read handed on unchanged: handshakes, refusals and
their audit rows, heartbeats, chunked or large bodies, flooding clients, SQLite. The checks made
here are the app's own (`webhooks.accepted_from_cache`, `webhooks.store_accepted`), so the two
paths cannot disagree on what is accepted or stored.
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.api.errors import error_response
from service.api.state import ApiState
from service.api.webhooks import LOOP_PARSE_BYTES, accepted_from_cache, store_accepted
from service.events.subscriptions import RECEIVER_PATH, valid_nonce

log = logging.getLogger("sprintpilot.api")

_NONCE_PREFIX = RECEIVER_PATH + "/"


def _nonce_of(path: str) -> tuple[bool, str | None]:
    """(is a receiver path this path may serve, its nonce or None for the bare path)."""
    if path == RECEIVER_PATH:
        return True, None
    if path.startswith(_NONCE_PREFIX):
        nonce = path[len(_NONCE_PREFIX) :]
        return valid_nonce(nonce), nonce
    return False, None


def _replaying(messages: list[Message], receive: Receive) -> Receive:
    """`receive` with the messages already taken from it handed out first, in order."""
    pending = list(messages)

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay


async def serve_delivery(state: ApiState, scope: Scope, receive: Receive, send: Send, app: ASGIApp) -> None:
    """Answer the delivery in `scope` here when this path can; otherwise hand it to `app`."""
    fits, nonce = _nonce_of(scope["path"])
    if not fits or state.inbox is None:
        await app(scope, receive, send)
        return
    declared: list[bytes] = []
    signature: str | None = None
    for name, value in scope["headers"]:
        if name == b"content-length":
            declared.append(value)
        elif name == b"x-hook-signature":
            signature = value.decode("latin-1")
        elif name == b"x-hook-secret" or name == b"transfer-encoding":
            declared = []  # a handshake or a chunked body: the app's path
            break
    size_limit = min(LOOP_PARSE_BYTES, state.max_body_bytes)
    if len(declared) != 1 or not declared[0].isdigit() or int(declared[0]) > size_limit:
        await app(scope, receive, send)
        return
    if state.failures.blocked(state.client(Request(scope))) is not None:
        await app(scope, receive, send)  # 429 from the app, with its Retry-After
        return

    taken: list[Message] = []
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        taken.append(message)
        if message["type"] != "http.request":
            await app(scope, _replaying(taken, receive), send)  # a disconnect: the app sees it
            return
        chunk = message.get("body", b"")
        size += len(chunk)
        chunks.append(chunk)
        if size > size_limit:
            await app(scope, _replaying(taken, receive), send)
            return
        if not message.get("more_body", False):
            break

    response: Response | None = None
    try:
        accepted = accepted_from_cache(state, nonce, b"".join(chunks), signature)
        if accepted is not None:
            response = await store_accepted(state, *accepted)
    except Exception as err:  # noqa: BLE001 - the app's own answer to an unexpected error
        log.error("unhandled error on POST %s: %s", scope["path"], type(err).__name__)
        response = error_response(500, "internal error")
    if response is None:
        # Outside the try: the app answers its own errors (and re-raises them to the server).
        await app(scope, _replaying(taken, receive), send)
        return
    await response(scope, receive, send)
