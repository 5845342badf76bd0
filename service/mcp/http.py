"""`/mcp` on `sprintpilot serve`: the streamable HTTP transport, authenticated by Asana.

Each request carries `Authorization: Bearer <Asana access token>`: an OAuth access token of the
person (from Asana's OAuth flow, e.g. the one `/oauth/login` or `sprintpilot auth login` runs) or
their personal access token. The token is checked with Asana itself (`GET /users/me`), which says
whose it is; that Asana user is the session's identity (service/mcp/session.py). sprintpilot keeps
no token of its own for MCP clients, and a token Asana refuses is a 401 with the protected-resource
metadata (RFC 9728) naming Asana as the authorization server. Verified tokens are remembered for
a minute (by hash), so a session does not call Asana on every request.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from urllib.parse import urlsplit

import anyio.to_thread
import httpx
from fastapi import FastAPI
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.routes import create_protected_resource_routes
from mcp.server.auth.settings import AuthSettings
from mcp.server.transport_security import TransportSecuritySettings

from service.mcp.server import build_server
from service.mcp.session import McpHost, McpRefused, RuntimeFactory
from service.settings import Settings

TOKEN_TTL_S = 60.0
ASANA_ISSUER = "https://app.asana.com"


class AsanaTokenVerifier:
    """The SDK's TokenVerifier: a bearer token is valid when Asana says whose it is."""

    def __init__(self, base_url: Callable[[], str], *, ttl_s: float = TOKEN_TTL_S) -> None:
        self._base_url = base_url
        self._ttl_s = ttl_s
        self._cache: dict[str, tuple[float, str]] = {}
        self._lock = threading.Lock()

    def _me(self, token: str) -> str | None:
        url = f"{self._base_url().rstrip('/')}/users/me"
        try:
            answer = httpx.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=10.0)
        except httpx.HTTPError:
            return None
        if answer.status_code != 200:
            return None
        gid = (answer.json().get("data") or {}).get("gid")
        return str(gid) if gid else None

    async def verify_token(self, token: str) -> AccessToken | None:
        key = hashlib.sha256(token.encode()).hexdigest()
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(key)
        if hit is not None and now - hit[0] < self._ttl_s:
            gid: str | None = hit[1]
        else:
            gid = await anyio.to_thread.run_sync(self._me, token)
            if gid is None:
                return None
            with self._lock:
                if len(self._cache) > 10_000:
                    self._cache.clear()
                self._cache[key] = (now, gid)
        return AccessToken(token=token, client_id="asana", scopes=[], subject=gid)


def _issuer(settings: Settings) -> str:
    """Who issues the tokens `/mcp/` accepts: Asana, or the configured Asana stand-in (the
    `sprintpilot sandbox` server is an OAuth server too), so a client is not sent to real Asana
    for a token the stand-in would refuse."""
    if settings.asana_base_url:
        parts = urlsplit(settings.asana_base_url)
        if parts.scheme and parts.netloc:
            return f"{parts.scheme}://{parts.netloc}"
    return ASANA_ISSUER


def _request_user() -> str:
    token = get_access_token()
    if token is None or not token.subject:
        raise McpRefused("not signed in: send an Asana access token as the bearer token")
    return token.subject


def _security(settings: Settings) -> TransportSecuritySettings:
    # DNS-rebinding protection for local use, plus the host `serve` is published at.
    public = urlsplit(settings.public_url)
    hosts = ["127.0.0.1:*", "localhost:*", "[::1]:*"]
    origins = ["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"]
    if public.netloc:
        hosts.append(public.netloc)
        origins.append(f"{public.scheme}://{public.netloc}")
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True, allowed_hosts=hosts, allowed_origins=origins
    )


def mount_mcp(
    app: FastAPI, settings: Settings, runtime: RuntimeFactory
) -> Callable[[], AbstractAsyncContextManager[None]]:
    """Mount the MCP endpoint at /mcp/ and return the lifespan part the app must run."""
    from service.runtime import default_registry

    def base_url() -> str:
        with runtime() as rt:
            return rt.asana.base_url

    host = McpHost(settings, runtime, _request_user, "http")
    resource_url = f"{settings.public_url.rstrip('/')}/mcp/"
    auth = AuthSettings(
        issuer_url=_issuer(settings),  # type: ignore[arg-type]
        resource_server_url=resource_url,  # type: ignore[arg-type]
        validate_token_resource=False,  # Asana's tokens name no audience; Asana itself vouches
    )
    # default_registry(): the same specialists the API's runtime routes to; built without I/O.
    server = build_server(host, default_registry(), auth=auth, token_verifier=AsanaTokenVerifier(base_url))
    asgi = server.streamable_http_app(streamable_http_path="/", transport_security=_security(settings))
    app.mount("/mcp", asgi)
    for route in create_protected_resource_routes(
        resource_url=auth.resource_server_url,  # type: ignore[arg-type]
        authorization_servers=[auth.issuer_url],
    ):
        app.router.routes.append(route)

    @asynccontextmanager
    async def running() -> AsyncIterator[None]:
        async with server.session_manager.run():
            yield

    return running
