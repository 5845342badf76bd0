"""The sandbox as Asana's OAuth authorization server, over real HTTP (developers.asana.com/docs/oauth)."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from sandbox.store import Store

pytestmark = pytest.mark.integration

CLIENT = {"client_id": "1200000000000999", "client_secret": "sandbox-secret"}
REDIRECT = "http://127.0.0.1:51234/callback"  # registered without a port: loopback matches any port
VERIFIER = "v" * 50


def _challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")


def _authorize(sb: Any, **extra: str) -> httpx.Response:
    params = {
        "client_id": CLIENT["client_id"],
        "redirect_uri": REDIRECT,
        "response_type": "code",
        "state": "st-1",
        "code_challenge": _challenge(VERIFIER),
        "code_challenge_method": "S256",
        **extra,
    }
    return httpx.get(sb.url("/-/oauth_authorize?" + urlencode(params)), follow_redirects=False)


def _code(sb: Any, user: str) -> str:
    response = _authorize(sb, user=user)
    assert response.status_code == 302, response.text
    query = parse_qs(urlsplit(response.headers["location"]).query)
    assert query["state"] == ["st-1"]
    return query["code"][0]


def _token(sb: Any, **form: str) -> httpx.Response:
    return httpx.post(sb.url("/-/oauth_token"), data={**CLIENT, **form})


def _exchange(sb: Any, code: str, verifier: str = VERIFIER) -> httpx.Response:
    return _token(
        sb, grant_type="authorization_code", code=code, redirect_uri=REDIRECT, code_verifier=verifier
    )


def _me(sb: Any, token: str) -> httpx.Response:
    return httpx.get(sb.server.base_url + "/users/me", headers={"Authorization": f"Bearer {token}"})


def test_code_token_api_expiry_refresh_revoke(oauth_sandbox: Any) -> None:
    sb = oauth_sandbox
    grant = _exchange(sb, _code(sb, sb.ana))
    assert grant.status_code == 200, grant.text
    body = grant.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600
    assert body["data"] == {"id": int(sb.ana), "gid": sb.ana, "name": "Ana Lima", "email": "ana@acme.test"}
    access, refresh = body["access_token"], body["refresh_token"]
    assert _me(sb, access).json()["data"]["gid"] == sb.ana

    later = datetime.now(UTC) + timedelta(seconds=3601)
    sb.store.set_clock(lambda: later)
    assert _me(sb, access).status_code == 401  # expired after an hour

    refreshed = _token(sb, grant_type="refresh_token", refresh_token=refresh)
    assert refreshed.status_code == 200, refreshed.text
    assert "refresh_token" not in refreshed.json()  # Asana keeps the refresh token
    new_access = refreshed.json()["access_token"]
    assert _me(sb, new_access).json()["data"]["gid"] == sb.ana

    assert httpx.post(sb.url("/-/oauth_revoke"), data={**CLIENT, "token": refresh}).status_code == 200
    assert _me(sb, new_access).status_code == 401
    again = _token(sb, grant_type="refresh_token", refresh_token=refresh)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_codes_are_single_use_and_pkce_is_checked(oauth_sandbox: Any) -> None:
    sb = oauth_sandbox
    code = _code(sb, sb.bot)
    wrong = _exchange(sb, code, verifier="w" * 50)
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    assert "code_verifier" in wrong.json()["error_description"]
    assert _exchange(sb, code).json()["error"] == "invalid_grant"  # burnt by the failed try
    code = _code(sb, "bot@acme.test")  # an email picks the user too
    assert _exchange(sb, code).status_code == 200
    assert _exchange(sb, code).json()["error"] == "invalid_grant"  # single use


def test_codes_expire(oauth_sandbox: Any) -> None:
    sb = oauth_sandbox
    code = _code(sb, sb.bot)
    later = datetime.now(UTC) + timedelta(minutes=11)
    sb.store.set_clock(lambda: later)
    assert _exchange(sb, code).json()["error"] == "invalid_grant"


def test_client_errors(oauth_sandbox: Any) -> None:
    sb = oauth_sandbox
    bad_secret = httpx.post(
        sb.url("/-/oauth_token"),
        data={"client_id": CLIENT["client_id"], "client_secret": "nope", "grant_type": "refresh_token"},
    )
    assert bad_secret.status_code == 401 and bad_secret.json()["error"] == "invalid_client"
    unsupported = _token(sb, grant_type="password")
    assert unsupported.status_code == 400 and unsupported.json()["error"] == "unsupported_grant_type"


def test_authorize_errors_are_pages_not_redirects(oauth_sandbox: Any) -> None:
    sb = oauth_sandbox
    unknown = _authorize(sb, client_id="42", user=sb.bot)
    assert unknown.status_code == 400 and "location" not in unknown.headers
    mismatch = _authorize(sb, redirect_uri="https://evil.example/callback", user=sb.bot)
    assert mismatch.status_code == 400 and "location" not in mismatch.headers
    other_path = _authorize(sb, redirect_uri="http://127.0.0.1:5000/elsewhere", user=sb.bot)
    assert other_path.status_code == 400
    # Other errors go back to the app, with its state.
    bad_type = _authorize(sb, response_type="token", user=sb.bot)
    assert bad_type.status_code == 302
    assert parse_qs(urlsplit(bad_type.headers["location"]).query) == {
        "error": ["unsupported_response_type"],
        "state": ["st-1"],
    }


def test_consent_page_and_form(oauth_sandbox: Any) -> None:
    sb = oauth_sandbox
    page = _authorize(sb)
    assert page.status_code == 200 and "Ana Lima" in page.text and "Allow" in page.text
    form = {
        "client_id": CLIENT["client_id"],
        "redirect_uri": REDIRECT,
        "response_type": "code",
        "state": "st-1",
        "user": sb.ana,
        "decision": "allow",
    }
    allowed = httpx.post(sb.url("/-/oauth_authorize"), data=form, follow_redirects=False)
    assert allowed.status_code == 302
    code = parse_qs(urlsplit(allowed.headers["location"]).query)["code"][0]
    no_pkce = _token(sb, grant_type="authorization_code", code=code, redirect_uri=REDIRECT)
    assert no_pkce.status_code == 200  # no challenge asked, none checked
    denied = httpx.post(
        sb.url("/-/oauth_authorize"), data={**form, "decision": "deny"}, follow_redirects=False
    )
    assert parse_qs(urlsplit(denied.headers["location"]).query)["error"] == ["access_denied"]


def test_admin_registers_apps_and_state_round_trips(oauth_sandbox: Any) -> None:
    sb = oauth_sandbox
    created = httpx.post(
        sb.url("/__sandbox/oauth/apps"),
        json={"redirect_uris": ["https://sp.example.com/oauth/callback"], "name": "other"},
        headers={"Authorization": "Bearer pat-bot"},
    )
    assert created.status_code == 201, created.text
    assert created.json()["data"]["client_secret"]
    refresh = _exchange(sb, _code(sb, sb.ana)).json()["refresh_token"]
    copy = Store.from_json(sb.store.to_json())
    assert copy.to_json() == sb.store.to_json()
    assert created.json()["data"]["client_id"] in copy.oauth.apps and refresh in copy.oauth.refresh_tokens
