"""The HTTP API: Asana webhook receiver, approvals, health and metrics (`sprintpilot serve`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

from fastapi import FastAPI
from sqlalchemy import Engine

from service.api import approvals, health, webhooks
from service.api.errors import install_error_handlers
from service.api.secrets_cache import SecretCache
from service.api.state import DEFAULT_MAX_BODY_BYTES, ApiState, RuntimeFactory
from service.db.audit import SqlAuditLog
from service.db.engine import make_engine
from service.metrics import Metrics, create_db_metrics
from service.settings import Settings


def _default_runtime_factory(settings: Settings) -> RuntimeFactory:
    @contextmanager
    def factory() -> Iterator[object]:
        # Imported on first use: the webhook receiver never needs graphs or the Asana client.
        from service.runtime import open_runtime

        with open_runtime(settings) as rt:
            rt.share_call_totals()
            yield rt

    return factory  # type: ignore[return-value]


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

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            if own_engine:
                db.dispose()

    app = FastAPI(
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
        runtime_factory=runtime_factory or _default_runtime_factory(settings),
        secrets=SecretCache(db),
        max_body_bytes=max_body_bytes,
    )
    install_error_handlers(app)
    app.include_router(webhooks.router)
    app.include_router(approvals.router)
    app.include_router(health.router)
    return app
