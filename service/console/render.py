"""Jinja2 rendering for the console: one environment, autoescaped, with security headers.

`render` reads who is signed in from `request.state` (set by `session.current_person`), so this
module does not import the session code and templates never see the session's secrets except
the CSRF token a form must echo.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"

# Local assets only; inline styles are allowed for chart SVGs (no inline scripts anywhere).
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        "script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",  # pages show who may decide what; never cached by a proxy
}

NAV = (
    ("inbox", "Inbox", "/inbox"),
    ("history", "History", "/history"),
    ("audit", "Audit", "/audit"),
    ("dashboards", "Dashboards", "/dashboards"),
    ("settings", "Settings", "/settings"),
)


class ConsoleError(Exception):
    """A page-level failure shown as error.html with its status (e.g. 403, 404)."""

    def __init__(self, status: int, message: str, *, title: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.title = title or {401: "Sign in first", 403: "Not allowed", 404: "Not found"}.get(
            status, "Error"
        )


class ConsoleRedirect(Exception):
    """Leave the page for `location` (303): e.g. to /login when nobody is signed in."""

    def __init__(self, location: str) -> None:
        super().__init__(location)
        self.location = location


def compact(value: Any, limit: int = 300) -> str:
    """A value as one short line: strings as they are, anything else as JSON."""
    if value is None:
        return ""
    text = (
        value
        if isinstance(value, str)
        else json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    )
    return text if len(text) <= limit else text[: limit - 1] + "…"


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["compact"] = compact
    env.globals["nav"] = NAV
    return env


def render(request: Request, template: str, *, status_code: int = 200, **context: Any) -> HTMLResponse:
    """The page `template` with `context`, plus what base.html needs (who, CSRF, current path)."""
    state = request.state
    base = {
        "request": request,
        "person": getattr(state, "console_person", None),
        "csrf": getattr(state, "console_csrf", ""),
        "path": request.url.path,
    }
    html = environment().get_template(template).render({**base, **context})
    return HTMLResponse(html, status_code=status_code, headers=SECURITY_HEADERS)
