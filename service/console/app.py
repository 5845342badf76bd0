"""`include_console`: mount the web console on an app built by `create_api`.

Console pages answer HTML even for their errors (a 404 page, a 303 to /login), so the console's
own exceptions get handlers here; every other error keeps the API's JSON answer.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from service.api.state import RuntimeFactory
from service.console import dashboards, history, inbox, proposal, session, settings_view
from service.console.render import SECURITY_HEADERS, STATIC, ConsoleError, ConsoleRedirect, render


@dataclass(frozen=True)
class ConsoleState:
    runtime_factory: RuntimeFactory


async def _redirect(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ConsoleRedirect)
    return RedirectResponse(exc.location, status_code=303, headers={"Cache-Control": "no-store"})


async def _error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ConsoleError)
    return render(request, "error.html", status_code=exc.status, title=exc.title, message=exc.message)


def include_console(app: FastAPI, runtime_factory: RuntimeFactory | None = None) -> None:
    """Add the console's pages and `/static/console/…` (the API's runtime factory unless given)."""
    app.state.console = ConsoleState(runtime_factory or app.state.api.runtime_factory)
    app.add_exception_handler(ConsoleRedirect, _redirect)
    app.add_exception_handler(ConsoleError, _error)
    app.mount("/static/console", StaticFiles(directory=STATIC), name="console-static")
    for module in (session, inbox, proposal, settings_view, history, dashboards):
        app.include_router(module.router)

    @app.get("/console-after-oauth", include_in_schema=False)
    def after_oauth(request: Request) -> Response:
        # Kept for links made before "Sign in with Asana" carried the page the person was going to.
        return RedirectResponse("/inbox", status_code=303, headers=SECURITY_HEADERS)
