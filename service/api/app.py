"""The HTTP API: Asana webhook receiver, approvals, health and metrics (`sprintpilot serve`)."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import (
    AbstractAsyncContextManager,
    AsyncExitStack,
    ExitStack,
    asynccontextmanager,
    contextmanager,
)
from typing import TYPE_CHECKING

from fastapi import FastAPI
from sqlalchemy import Engine
from starlette.types import Receive, Scope, Send

from service.api import approvals, health, oauth, webhooks
from service.api.errors import install_error_handlers
from service.api.fast_path import serve_delivery
from service.api.limits import BodyLimit
from service.api.secrets_cache import SecretCache
from service.api.state import DEFAULT_MAX_BODY_BYTES, ApiState, RuntimeFactory
from service.db.audit import SqlAuditLog
from service.db.engine import make_engine
from service.events.inbox_async import async_inbox_for
from service.events.subscriptions import RECEIVER_PATH
from service.metrics import Metrics, create_db_metrics
from service.settings import Settings

if TYPE_CHECKING:
    from service.runtime import Runtime


class SharedRuntime:
    """The API process's one Runtime: opened on the first request that needs it (the webhook
    receiver never does), shared by every request after, closed when the app shuts down.

    A request used to open its own runtime (schema check, two engines, two graph compiles, the
    embedded sandbox loaded from disk): hundreds of milliseconds each. Requests now get a cheap
    per-run context from the shared one; the embedded sandbox is saved after a request that
    changed it, so CLI commands started later see the API's writes.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._stack: ExitStack | None = None
        self._runtime: Runtime | None = None

    def get(self) -> Runtime:
        with self._lock:
            if self._runtime is None:
                # Imported on first use: the webhook receiver never needs graphs or the Asana client.
                from service.runtime import Runtime, hold_runtime

                self._stack, self._runtime = hold_runtime(self.settings, prepare=Runtime.share_call_totals)
            return self._runtime

    @contextmanager
    def __call__(self) -> Iterator[Runtime]:
        rt = self.get()
        try:
            yield rt
        finally:
            rt.persist()

    def close(self) -> None:
        with self._lock:
            stack, self._stack, self._runtime = self._stack, None, None
        if stack is not None:
            stack.close()


class SprintpilotApi(FastAPI):
    """The app, with signed webhook deliveries served ahead of its middleware and routing
    (`service.api.fast_path`: the deliveries that path declines come back here unchanged)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"].startswith(RECEIVER_PATH):
            await serve_delivery(self.state.api, scope, receive, send, super().__call__)
            return
        await super().__call__(scope, receive, send)


def create_api(
    settings: Settings,
    *,
    engine: Engine | None = None,
    runtime_factory: RuntimeFactory | None = None,
    metrics: Metrics | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
) -> FastAPI:
    """Build the app. The database must already be migrated (`serve` does that first).

    An `engine` passed in belongs to the caller; one created here is disposed at shutdown.
    """
    own_engine = engine is None
    db = engine if engine is not None else make_engine(settings)
    # On Postgres, deliveries go to the inbox over an async connection of the receiver's own
    # (service.events.inbox_async); elsewhere through the engine.
    inbox = async_inbox_for(db, prepare=settings.db_prepare)
    shared = SharedRuntime(settings) if runtime_factory is None else None

    mcp_running: list[Callable[[], AbstractAsyncContextManager[None]]] = []

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            async with AsyncExitStack() as stack:
                for running in mcp_running:  # the MCP endpoint's session manager
                    await stack.enter_async_context(running())
                yield
        finally:
            if shared is not None:
                shared.close()
            if inbox is not None:
                await inbox.aclose()
            if own_engine:
                db.dispose()

    app = SprintpilotApi(
        title="sprintpilot",
        summary="Asana webhook receiver and approval API",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.api = ApiState(
        settings=settings,
        engine=db,
        metrics=metrics or create_db_metrics(db, settings.redis_url),
        audit=SqlAuditLog(db),
        runtime_factory=runtime_factory or shared,  # type: ignore[arg-type]
        secrets=SecretCache(db),
        max_body_bytes=max_body_bytes,
        inbox=inbox,
    )
    install_error_handlers(app)
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)  # before auth and body parsing
    app.include_router(webhooks.router)
    app.include_router(approvals.router)
    app.include_router(health.router)
    app.include_router(oauth.router)  # /oauth/login and /oauth/callback (SPRINTPILOT_ASANA_AUTH=oauth)
    # The console builds on the API's modules, so it is imported here, not at import time.
    from service.console.app import include_console

    include_console(app)  # the web console at / (service/console), over the same runtime
    # The MCP endpoint at /mcp/ (service/mcp), imported here: the SDK is not loaded before it.
    from service.mcp.http import mount_mcp

    mcp_running.append(mount_mcp(app, settings, runtime_factory or shared))  # type: ignore[arg-type]  # one is set
    return app
