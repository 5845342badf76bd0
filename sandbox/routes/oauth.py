"""Asana's OAuth 2.0 endpoints (authorization code grant, PKCE S256), at the root as on
app.asana.com: `GET|POST /-/oauth_authorize`, `POST /-/oauth_token`, `POST /-/oauth_revoke`.
Plus the sandbox-only app registry under `/__sandbox/oauth/apps`.

There is no login in an emulator: the consent page lists the sandbox's users and the one picked
is the one who authorizes. Headless tests may pass `user=<gid or email>` to the GET instead
(sandbox-only; Asana has no such parameter). As on Asana, an unknown client or a redirect URI
that is not registered shows an error page (never a redirect, so codes can't leak to an
attacker's URL); other authorization errors are redirected with `error=` and `state`.
"""

from __future__ import annotations

import html
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from sandbox.context import json_response
from sandbox.oauth import ACCESS_TTL_S, OAuthApp, OAuthError, RefreshGrant
from sandbox.records import User
from sandbox.routes.admin import require_admin
from sandbox.store import Store

router = APIRouter()

_AUTH_FIELDS = (
    "client_id",
    "redirect_uri",
    "response_type",
    "state",
    "scope",
    "code_challenge",
    "code_challenge_method",
)


def _store(request: Request) -> Store:
    store: Store = request.app.state.sandbox.store
    return store


def _error_page(message: str, status: int = 400) -> HTMLResponse:
    body = (
        "<!doctype html><title>Asana sandbox: OAuth error</title>"
        f"<h1>OAuth error</h1><p>{html.escape(message)}</p>"
    )
    return HTMLResponse(body, status_code=status)


def _redirect(redirect_uri: str, params: dict[str, str | None]) -> RedirectResponse:
    query = urlencode({k: v for k, v in params.items() if v is not None})
    sep = "&" if "?" in redirect_uri else "?"
    return RedirectResponse(f"{redirect_uri}{sep}{query}", status_code=302)


def _find_user(store: Store, value: str | None) -> User | None:
    if not value:
        return None
    if value in store.users:
        return store.users[value]
    return next((u for u in store.users.values() if u.email and u.email == value), None)


def _consent_page(app: OAuthApp, params: dict[str, str], users: list[User]) -> HTMLResponse:
    hidden = "".join(
        f'<input type="hidden" name="{k}" value="{html.escape(v)}">' for k, v in params.items() if v
    )
    choices = "".join(
        f'<label><input type="radio" name="user" value="{html.escape(u.gid)}"{" checked" if i == 0 else ""}> '
        f"{html.escape(u.name or u.gid)} &lt;{html.escape(u.email or '')}&gt;</label><br>"
        for i, u in enumerate(users)
    )
    body = (
        "<!doctype html><title>Asana sandbox: authorize</title>"
        f"<h1>{html.escape(app.name)} wants to access your Asana account</h1>"
        f'<form method="post" action="/-/oauth_authorize">{hidden}'
        f"<p>Sign in as (sandbox users, no password):</p>{choices}"
        '<button name="decision" value="allow">Allow</button> '
        '<button name="decision" value="deny">Deny</button></form>'
    )
    return HTMLResponse(body)


def _authorize(store: Store, params: dict[str, str], user_ref: str | None, decision: str | None) -> Response:
    with store.lock:
        try:
            app = store.oauth.app_for(params.get("client_id"), params.get("redirect_uri"))
        except OAuthError as err:
            return _error_page(err.description)
        redirect_uri, state = params["redirect_uri"], params.get("state")
        if params.get("response_type") != "code":
            return _redirect(redirect_uri, {"error": "unsupported_response_type", "state": state})
        challenge = params.get("code_challenge")
        if challenge and params.get("code_challenge_method") != "S256":
            desc = "code_challenge_method must be S256"
            return _redirect(
                redirect_uri, {"error": "invalid_request", "error_description": desc, "state": state}
            )
        if decision == "deny":
            return _redirect(redirect_uri, {"error": "access_denied", "state": state})
        user = _find_user(store, user_ref)
        if user is None:
            if user_ref:
                return _error_page(f"Unknown sandbox user {user_ref!r}.")
            return _consent_page(app, params, sorted(store.users.values(), key=lambda u: u.name or u.gid))
        scope = params.get("scope") or "default"
        code = store.oauth.issue_code(app, redirect_uri, user.gid, scope, challenge, store.now_dt())
    return _redirect(redirect_uri, {"code": code, "state": state})


@router.get("/-/oauth_authorize")
async def authorize(request: Request) -> Response:
    query = request.query_params
    params = {k: query[k] for k in _AUTH_FIELDS if k in query}
    return _authorize(_store(request), params, query.get("user"), None)


@router.post("/-/oauth_authorize")
async def authorize_form(request: Request) -> Response:
    form = await request.form()
    params = {k: str(form[k]) for k in _AUTH_FIELDS if k in form}
    user, decision = form.get("user"), form.get("decision")
    return _authorize(
        _store(request), params, str(user) if user else None, str(decision) if decision else "allow"
    )


def _oauth_error(err: OAuthError) -> Response:
    headers = {"WWW-Authenticate": "Basic"} if err.status == 401 else None
    return json_response({"error": err.code, "error_description": err.description}, err.status, headers)


def _token_body(store: Store, grant: RefreshGrant, access: str, refresh: str | None) -> dict[str, Any]:
    user = store.users[grant.user_gid]
    body: dict[str, Any] = {
        "access_token": access,
        "token_type": "bearer",
        "expires_in": ACCESS_TTL_S,
        # Asana sends the user's legacy numeric id beside its gid.
        "data": {
            "id": int(user.gid) if user.gid.isdigit() else user.gid,
            "gid": user.gid,
            "name": user.name,
            "email": user.email,
        },
    }
    if refresh is not None:  # only the code exchange hands out a refresh token; refreshing keeps it
        body["refresh_token"] = refresh
    return body


async def _client_form(request: Request) -> tuple[dict[str, str], OAuthApp]:
    form = {k: str(v) for k, v in (await request.form()).items()}
    store = _store(request)
    with store.lock:
        return form, store.oauth.authenticate(form.get("client_id"), form.get("client_secret"))


@router.post("/-/oauth_token")
async def token(request: Request) -> Response:
    store = _store(request)
    try:
        form, app = await _client_form(request)
        grant_type = form.get("grant_type")
        with store.lock:
            now = store.now_dt()
            if grant_type == "authorization_code":
                refresh, grant = store.oauth.redeem_code(
                    app, form.get("code"), form.get("redirect_uri"), form.get("code_verifier"), now
                )
                access = store.oauth.mint_access(store, grant, now)
                return json_response(_token_body(store, grant, access, refresh))
            if grant_type == "refresh_token":
                grant = store.oauth.refresh_grant(app, form.get("refresh_token"))
                access = store.oauth.mint_access(store, grant, now)
                return json_response(_token_body(store, grant, access, None))
        raise OAuthError("unsupported_grant_type", f"grant_type {grant_type!r} is not supported.")
    except OAuthError as err:
        return _oauth_error(err)


@router.post("/-/oauth_revoke")
async def revoke(request: Request) -> Response:
    store = _store(request)
    try:
        form, app = await _client_form(request)
    except OAuthError as err:
        return _oauth_error(err)
    with store.lock:
        store.oauth.revoke(store, app, form.get("token"))
    return Response(status_code=200)


# ---- sandbox-only: the app registry (Asana's developer console) -----------------------------
@router.post("/__sandbox/oauth/apps")
async def register_app(request: Request, services: Any = Depends(require_admin)) -> Response:
    try:
        body = await request.json()
    except ValueError:
        body = None
    uris = body.get("redirect_uris") if isinstance(body, dict) else None
    if not isinstance(uris, list) or not uris or not all(isinstance(u, str) and u for u in uris):
        return json_response({"errors": [{"message": "redirect_uris: a non-empty list of URLs"}]}, 400)
    store: Store = services.store
    with store.lock:
        app = store.oauth.register_app(
            uris,
            client_id=body.get("client_id"),
            client_secret=body.get("client_secret"),
            name=str(body.get("name") or "OAuth app"),
        )
    return json_response({"data": _app_json(app)}, 201)


@router.get("/__sandbox/oauth/apps")
async def list_apps(services: Any = Depends(require_admin)) -> Response:
    store: Store = services.store
    with store.lock:
        return json_response({"data": [_app_json(a) for a in store.oauth.apps.values()]})


def _app_json(app: OAuthApp) -> dict[str, Any]:
    return {
        "client_id": app.client_id,
        "client_secret": app.client_secret,
        "redirect_uris": app.redirect_uris,
        "name": app.name,
    }
