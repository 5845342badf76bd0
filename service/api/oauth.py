"""`GET /oauth/login` and `GET /oauth/callback`: the browser side of OAuth to Asana on `serve`.

The login redirects to Asana's authorize URL with a fresh `state` and PKCE challenge. Both are
kept in a short-lived cookie encrypted with SPRINTPILOT_TOKEN_KEY (nothing server-side, so any
API process can take the callback), and the callback accepts a code only when its `state` equals
the cookie's: a callback forged into another browser (login CSRF) has no matching cookie.

`/oauth/login?next=/path` (the console's "Sign in with Asana") also signs the person who
authorized into the web console and sends the browser to that local path.
"""

from __future__ import annotations

import html
import json

from cryptography.fernet import Fernet, InvalidToken
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import SecretStr

from service.api.state import api_state
from service.oauth.client import OAuthClient, new_pkce, new_state
from service.oauth.tokens import TokenStore
from service.settings import Settings
from tools.errors import UserError

router = APIRouter(prefix="/oauth", tags=["oauth"])
COOKIE = "sprintpilot_oauth"
LOGIN_TTL_S = 600  # Asana's codes live ten minutes; a login pending longer is abandoned


def _fernet(store: TokenStore, settings: Settings) -> Fernet:
    store.check_key()  # a one-line ConfigError without a (valid) key, before anything is sent
    assert settings.token_key is not None
    return Fernet(settings.token_key.get_secret_value().encode())


@router.get("/login")
def login(request: Request, next: str | None = None) -> RedirectResponse:  # noqa: A002 - the query name
    state = api_state(request)
    store = TokenStore(state.engine, state.settings)
    fernet = _fernet(store, state.settings)
    client = OAuthClient(state.settings)
    pkce, csrf = new_pkce(), new_state()
    url = client.authorize_url(
        redirect_uri=state.settings.oauth_redirect_uri, state=csrf, code_challenge=pkce.challenge
    )
    from service.console.session import safe_next  # the console imports the API: not at import time

    after = safe_next(next) if next else None  # only a local path: never an open redirect
    pending = json.dumps(
        {"state": csrf, "verifier": pkce.verifier.get_secret_value(), "next": after}
    ).encode()
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(
        COOKIE,
        fernet.encrypt(pending).decode("ascii"),
        max_age=LOGIN_TTL_S,
        path="/oauth",
        httponly=True,
        secure=request.url.scheme == "https",
        samesite="lax",  # sent on Asana's top-level redirect back, not on cross-site subrequests
    )
    return response


@router.get("/callback")
def callback(request: Request) -> Response:
    state = api_state(request)
    store = TokenStore(state.engine, state.settings)
    fernet = _fernet(store, state.settings)
    query = request.query_params
    if query.get("error"):
        raise UserError(f"Asana did not authorize sprintpilot ({query['error']})")
    try:
        pending = json.loads(fernet.decrypt(request.cookies.get(COOKIE, "").encode(), ttl=LOGIN_TTL_S))
    except (InvalidToken, ValueError):
        raise UserError(
            "no login in progress in this browser (or it expired); start at /oauth/login"
        ) from None
    if not query.get("state") or query["state"] != pending.get("state"):
        raise UserError(
            "state mismatch: this answer is not for the login started here; start at /oauth/login"
        )
    code = query.get("code")
    if not code:
        raise UserError("no authorization code in the callback")
    grant = OAuthClient(state.settings).exchange_code(
        code, redirect_uri=state.settings.oauth_redirect_uri, code_verifier=SecretStr(pending["verifier"])
    )
    stored = store.save(grant)
    who = html.escape(grant.user.label)
    response: Response
    if pending.get("next"):
        from service.console.session import safe_next, session_for_oauth

        response = RedirectResponse(safe_next(str(pending["next"])), status_code=303)
        if session_for_oauth(request, response, stored.user_gid) is None:
            response = HTMLResponse(
                "<!doctype html><title>sprintpilot</title>"
                f"<p>Logged in to Asana as {who}, who is not a user of this workspace; the console "
                "stays signed out.</p>",
                status_code=403,
            )
        response.delete_cookie(COOKIE, path="/oauth")
        return response
    response = HTMLResponse(
        "<!doctype html><title>sprintpilot</title>"
        f"<p>Logged in to Asana as {who} ({stored.user_gid}). You can close this window.</p>"
    )
    response.delete_cookie(COOKIE, path="/oauth")
    return response
