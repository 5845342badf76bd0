"""Every error leaves the API as JSON `{"error": ...}`: no HTML pages, no tracebacks.

The product's own errors (`tools.errors`) answer with their `http_status`: a `UserError` its 4xx
(503 for configuration), an upstream failure (Asana) 502; any other one is a fault of ours and
answers 500 "internal error" like an unexpected exception.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from tools.errors import SprintpilotError, UpstreamError, UserError

log = logging.getLogger("sprintpilot.api")


class ApiError(SprintpilotError):
    """An expected failure with the status and message the client should see."""

    def __init__(self, status: int, message: str, *, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.http_status = status
        self.message = message
        self.headers = dict(headers or {})


def error_response(
    status: int, message: str, headers: Mapping[str, str] | None = None, **extra: Any
) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status, headers=dict(headers or {}))


def _validation_details(err: RequestValidationError) -> list[dict[str, Any]]:
    # Echo where and why, never the submitted values (they may hold tokens or personal data).
    return [{"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", ""))} for e in err.errors()]


def product_error_response(request: Request, exc: SprintpilotError) -> JSONResponse:
    """The answer for one of our errors (see the module docstring)."""
    if isinstance(exc, UserError):
        return error_response(exc.http_status, _message(exc))
    if isinstance(exc, UpstreamError):
        log.warning("upstream failure on %s %s: %s", request.method, request.url.path, _message(exc))
        headers: dict[str, str] = {}
        retry_after = getattr(exc, "retry_after", None)  # Asana's RateLimited carries it
        if isinstance(retry_after, int | float):
            headers["Retry-After"] = str(math.ceil(retry_after))
        return error_response(exc.http_status, _message(exc), headers)
    log.error("error on %s %s: %s: %s", request.method, request.url.path, type(exc).__name__, exc)
    return error_response(500, "internal error")


def _message(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.message, exc.headers)

    @app.exception_handler(SprintpilotError)
    async def _product_error(request: Request, exc: SprintpilotError) -> JSONResponse:
        return product_error_response(request, exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return error_response(exc.status_code, str(exc.detail), exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(422, "invalid request", details=_validation_details(exc))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled error on %s %s: %s", request.method, request.url.path, type(exc).__name__)
        return error_response(500, "internal error")
