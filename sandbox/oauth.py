"""The sandbox's OAuth 2.0 authorization server state (developers.asana.com/docs/oauth).

Registered apps, authorization codes, refresh tokens and the expiry of the access tokens they
minted. Access tokens are ordinary store tokens (`store.tokens`) with an expiry kept here, so
every `/api/1.0` route accepts them unchanged; an expired one answers 401 like a bad token.
Everything is saved with the store (`to_json`/`from_json`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import secrets
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from sandbox.store import Store

ACCESS_TTL_S = 3600  # Asana: access tokens expire after one hour
CODE_TTL_S = 600  # Asana: authorization codes expire after ten minutes


class OAuthError(Exception):
    """An RFC 6749 error: `code` is its `error`, the message its `error_description`."""

    def __init__(self, code: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.status = status


@dataclass
class OAuthApp:
    client_id: str
    client_secret: str
    redirect_uris: list[str]
    name: str = "OAuth app"


@dataclass
class AuthCode:
    client_id: str
    redirect_uri: str
    user_gid: str
    scope: str
    expires_at: str
    code_challenge: str | None = None


@dataclass
class RefreshGrant:
    client_id: str
    user_gid: str
    scope: str
    access_tokens: list[str] = field(default_factory=list)


def _is_loopback(host: str | None) -> bool:
    if host == "localhost":
        return True
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def redirect_matches(registered: str, given: str) -> bool:
    """Exact match, except that a loopback redirect may use any port (RFC 8252 §7.3), so a CLI
    can listen on whatever port is free. Real Asana compares what you registered: register the
    exact URL there (sprintpilot's default port is fixed for that reason)."""
    if registered == given:
        return True
    a, b = urlsplit(registered), urlsplit(given)
    return (
        _is_loopback(a.hostname)
        and a.scheme == b.scheme == "http"
        and a.hostname == b.hostname
        and a.path == b.path
        and a.query == b.query
    )


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


class OAuthRegistry:
    """All OAuth state; callers hold `store.lock`."""

    def __init__(self) -> None:
        self.apps: dict[str, OAuthApp] = {}
        self.codes: dict[str, AuthCode] = {}
        self.refresh_tokens: dict[str, RefreshGrant] = {}
        self.access_expiry: dict[str, str] = {}  # access token -> ISO expiry

    # ---- apps --------------------------------------------------------------------------------
    def register_app(
        self,
        redirect_uris: list[str],
        *,
        client_id: str | None = None,
        client_secret: str | None = None,
        name: str = "OAuth app",
    ) -> OAuthApp:
        if not redirect_uris:
            raise ValueError("an OAuth app needs at least one redirect URI")
        app = OAuthApp(
            client_id=client_id or str(secrets.randbelow(10**15) + 10**15),
            client_secret=client_secret or secrets.token_hex(16),
            redirect_uris=list(redirect_uris),
            name=name,
        )
        self.apps[app.client_id] = app
        return app

    def app_for(self, client_id: str | None, redirect_uri: str | None) -> OAuthApp:
        """The app, or OAuthError when the client or its redirect URI is unknown (never redirected)."""
        app = self.apps.get(client_id or "")
        if app is None:
            raise OAuthError("invalid_client", "The client_id is not a registered OAuth app.")
        if not redirect_uri or not any(redirect_matches(r, redirect_uri) for r in app.redirect_uris):
            raise OAuthError("invalid_request", "The redirect_uri does not match the app's redirect URLs.")
        return app

    def authenticate(self, client_id: str | None, client_secret: str | None) -> OAuthApp:
        app = self.apps.get(client_id or "")
        if app is None or not hmac.compare_digest(app.client_secret, client_secret or ""):
            raise OAuthError("invalid_client", "Client authentication failed.", status=401)
        return app

    # ---- grants ------------------------------------------------------------------------------
    def issue_code(
        self,
        app: OAuthApp,
        redirect_uri: str,
        user_gid: str,
        scope: str,
        challenge: str | None,
        now: datetime,
    ) -> str:
        code = secrets.token_urlsafe(24)
        expires = (now + timedelta(seconds=CODE_TTL_S)).isoformat()
        self.codes[code] = AuthCode(app.client_id, redirect_uri, user_gid, scope, expires, challenge)
        return code

    def redeem_code(
        self, app: OAuthApp, code: str | None, redirect_uri: str | None, verifier: str | None, now: datetime
    ) -> tuple[str, RefreshGrant]:
        """The new refresh token and its grant."""
        # Single use: removed before any check, so a replayed code never works twice.
        grant = self.codes.pop(code or "", None)
        if grant is None or grant.client_id != app.client_id:
            raise OAuthError("invalid_grant", "The authorization code is invalid or was already used.")
        if datetime.fromisoformat(grant.expires_at) <= now:
            raise OAuthError("invalid_grant", "The authorization code has expired.")
        if redirect_uri != grant.redirect_uri:
            raise OAuthError("invalid_grant", "The redirect_uri does not match the authorization request.")
        if grant.code_challenge is not None and (
            not verifier or not hmac.compare_digest(s256(verifier), grant.code_challenge)
        ):
            raise OAuthError("invalid_grant", "The code_verifier does not match the code_challenge.")
        refresh_token = secrets.token_urlsafe(32)
        refresh = RefreshGrant(app.client_id, grant.user_gid, grant.scope)
        self.refresh_tokens[refresh_token] = refresh
        return refresh_token, refresh

    def refresh_grant(self, app: OAuthApp, token: str | None) -> RefreshGrant:
        grant = self.refresh_tokens.get(token or "")
        if grant is None or grant.client_id != app.client_id:
            raise OAuthError("invalid_grant", "The refresh token is invalid or was revoked.")
        return grant

    def mint_access(self, store: Store, grant: RefreshGrant, now: datetime) -> str:
        """A new access token for the grant's user, valid for ACCESS_TTL_S; expired ones are dropped."""
        for old in [t for t in grant.access_tokens if self.expired(t, now)]:
            self._forget_access(store, old)
            grant.access_tokens.remove(old)
        token = secrets.token_urlsafe(32)
        store.add_token(token, grant.user_gid)
        self.access_expiry[token] = (now + timedelta(seconds=ACCESS_TTL_S)).isoformat()
        grant.access_tokens.append(token)
        return token

    def revoke(self, store: Store, app: OAuthApp, token: str | None) -> None:
        """Revoke a refresh token (and every access token it minted) or one access token.
        Unknown tokens are not an error (RFC 7009 §2.2)."""
        grant = self.refresh_tokens.get(token or "")
        if grant is not None and grant.client_id == app.client_id:
            del self.refresh_tokens[token or ""]
            for access in grant.access_tokens:
                self._forget_access(store, access)
            return
        if token and token in self.access_expiry:
            self._forget_access(store, token)

    def _forget_access(self, store: Store, token: str) -> None:
        self.access_expiry.pop(token, None)
        store.tokens.pop(token, None)

    def expired(self, token: str, now: datetime) -> bool:
        expiry = self.access_expiry.get(token)
        return expiry is not None and datetime.fromisoformat(expiry) <= now

    # ---- persistence -------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {
            "apps": [asdict(a) for a in self.apps.values()],
            "codes": {k: asdict(v) for k, v in self.codes.items()},
            "refresh_tokens": {k: asdict(v) for k, v in self.refresh_tokens.items()},
            "access_expiry": dict(self.access_expiry),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> OAuthRegistry:
        registry = cls()
        registry.apps = {row["client_id"]: OAuthApp(**row) for row in data.get("apps", [])}
        registry.codes = {k: AuthCode(**v) for k, v in data.get("codes", {}).items()}
        registry.refresh_tokens = {k: RefreshGrant(**v) for k, v in data.get("refresh_tokens", {}).items()}
        registry.access_expiry = dict(data.get("access_expiry", {}))
        return registry
