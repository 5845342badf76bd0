"""The sandbox FastAPI app: Asana REST under `/api/1.0`, admin endpoints under `/__sandbox`."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sandbox.context import API_PREFIX
from sandbox.errors import RATE_LIMIT_MESSAGE, ApiError, error_response
from sandbox.events import EventsCursor
from sandbox.faults import FaultConfig, FaultInjector
from sandbox.premium import PremiumMiddleware
from sandbox.quotas import QuotaConfig, QuotaTracker
from sandbox.routes import (
    admin,
    attachments,
    containers,
    custom_fields,
    forms,
    goals,
    oauth,
    projects,
    sections,
    stories,
    tasks,
    webhooks,
    workspaces,
)
from sandbox.stats import MUTATING_METHODS
from sandbox.store import Store
from sandbox.webhooks import Dispatcher, WebhookSettings


@dataclass
class SandboxServices:
    """Everything the routes reach through `request.app.state.sandbox`."""

    store: Store
    faults: FaultInjector
    quotas: QuotaTracker
    dispatcher: Dispatcher
    events_cursor: EventsCursor
    admin_token: str | None = None
    secret: bytes = field(default_factory=lambda: secrets.token_bytes(16))
    # Page offsets live 15 minutes: a real Asana offset is a JWT whose `exp` is `iat` + 900 s.
    offset_ttl_s: float = 900.0
    # Offsets issued before this instant (ms since the epoch) are refused: POST /__sandbox/offsets/expire.
    offsets_valid_after_ms: int = 0

    def sign_download(self, gid: str) -> str:
        return hmac.new(self.secret, gid.encode(), hashlib.sha256).hexdigest()[:32]


def _as_injector(faults: FaultInjector | FaultConfig | str | None) -> FaultInjector:
    if isinstance(faults, FaultInjector):
        return faults
    if isinstance(faults, FaultConfig):
        return FaultInjector(faults)
    return FaultInjector(FaultConfig.parse(faults))


def create_app(
    store: Store,
    faults: FaultInjector | FaultConfig | str | None = None,
    *,
    quotas: QuotaConfig | str | None = None,
    webhook_settings: WebhookSettings | None = None,
    admin_token: str | None = None,
) -> FastAPI:
    injector = _as_injector(faults)
    quota_config = quotas if isinstance(quotas, QuotaConfig) else QuotaConfig.plan(quotas)
    services = SandboxServices(
        store=store,
        faults=injector,
        quotas=QuotaTracker(quota_config),
        dispatcher=Dispatcher(store, injector, webhook_settings),
        events_cursor=EventsCursor(store),
        admin_token=admin_token,
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        services.dispatcher.start()
        try:
            yield
        finally:
            await asyncio.to_thread(services.dispatcher.stop)

    app = FastAPI(
        title="sprintpilot Asana sandbox", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None
    )
    app.state.sandbox = services
    for module in (
        workspaces,
        projects,
        sections,
        tasks,
        stories,
        custom_fields,
        containers,
        attachments,
        webhooks,
        goals,
    ):
        app.include_router(module.router, prefix=API_PREFIX)
    app.include_router(admin.router)
    app.include_router(forms.router)  # /__sandbox/projects/{gid}/form_submissions: a form's task
    app.include_router(oauth.router)  # /-/oauth_* at the root, as on app.asana.com
    _install_error_handlers(app)
    # Inside SandboxMiddleware (added last = outermost), so a 402 is counted and rate limited.
    app.add_middleware(PremiumMiddleware, store=store)
    app.add_middleware(SandboxMiddleware, services=services)
    # The dispatcher also starts without a lifespan (e.g. TestClient used without `with`).
    services.dispatcher.start()
    return app


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(_request: Request, exc: ApiError) -> Response:
        return error_response(exc.status, exc.message, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ())[1:]) or "request"
        return error_response(400, f"{where}: {first.get('msg', 'Invalid request')}")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            return error_response(404, "No matching route for request")
        if exc.status_code == 405:
            return error_response(404, "No matching route for request")
        return error_response(exc.status_code, str(exc.detail))


class SandboxMiddleware:
    """Counts requests, applies quotas and injected faults; turns crashes into Asana-shaped 500s."""

    def __init__(self, app: ASGIApp, services: SandboxServices) -> None:
        self.app = app
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(API_PREFIX):
            await self.app(scope, receive, send)
            return
        method: str = scope["method"]
        is_write = method in MUTATING_METHODS
        token = _token(scope)
        status_holder = {"status": 500, "started": False}
        slot = {"held": False}

        def release() -> None:
            if slot["held"] and token is not None:
                slot["held"] = False
                self.services.quotas.leave(token, is_write)

        async def tracking_send(message: Message) -> None:
            if message["type"] == "http.response.start" and not status_holder["started"]:
                status_holder["status"] = message["status"]
                status_holder["started"] = True
                # Count before the client can see the response, so readers of stats never race us.
                self._record(scope, method, int(message["status"]), token)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                release()  # the request is over for the client once its last byte goes out
            await send(message)

        try:
            if token is not None:
                retry_after = self.services.quotas.enter(token, is_write)
                if retry_after is not None:
                    await error_response(429, RATE_LIMIT_MESSAGE, {"Retry-After": str(retry_after)})(
                        scope, receive, tracking_send
                    )
                    return
                slot["held"] = True
            faults = self.services.faults
            delay = faults.latency_s(method)
            if delay:
                await asyncio.sleep(delay)
            if faults.rate_limited(method):
                retry = str(faults.config.retry_after_s)
                await error_response(429, RATE_LIMIT_MESSAGE, {"Retry-After": retry})(
                    scope, receive, tracking_send
                )
                return
            if faults.server_error(method):
                await error_response(faults.config.status_5xx, "Server Error")(scope, receive, tracking_send)
                return
            await self.app(scope, receive, tracking_send)
        except Exception:  # noqa: BLE001 - any crash must still look like Asana's 500
            if not status_holder["started"]:
                await error_response(500, "Server Error")(scope, receive, tracking_send)
        finally:
            release()
            if not status_holder["started"]:
                self._record(scope, method, 500, token)

    def _record(self, scope: Scope, method: str, status: int, token: str | None) -> None:
        store = self.services.store
        template = _template(scope)
        user = store.tokens.get(token) if token else None
        store.stats.record(method, template, scope["path"], status, user)


def _token(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            return token.strip() if scheme.lower() == "bearer" and token.strip() else None
    return None


def _template(scope: Scope) -> str:
    route: Any = scope.get("route")
    if route is None:
        app = scope.get("app")
        for candidate in getattr(getattr(app, "router", None), "routes", []):
            match, _child = candidate.matches(scope)
            if match == Match.FULL:
                route = candidate
                break
    path = getattr(route, "path", None) or scope["path"]
    return str(path).removeprefix(API_PREFIX)
