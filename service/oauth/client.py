"""Asana's OAuth 2.0 endpoints from the client side (developers.asana.com/docs/oauth):
the authorize URL (authorization code grant with PKCE S256), the code exchange, refresh and
revoke. Tokens only ever travel as `SecretStr`; error messages name the endpoint, never a token.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from typing import Any
from urllib.parse import urlencode

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from service.settings import Settings
from tools.errors import ConfigError, UpstreamError, UserError

TIMEOUT_S = 30.0


class OAuthUser(BaseModel):
    """Who authorized: the token response's `data` (Asana also sends a legacy numeric `id`)."""

    model_config = ConfigDict(extra="ignore")

    gid: str
    name: str | None = None
    email: str | None = None

    @property
    def label(self) -> str:
        return f"{self.name} <{self.email}>" if self.name and self.email else self.name or self.gid


class TokenGrant(BaseModel):
    """A token endpoint answer. A refresh answer has no `refresh_token`: the old one stays valid."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    access_token: SecretStr
    refresh_token: SecretStr | None = None
    expires_in: int = Field(default=3600, ge=0)
    token_type: str = "bearer"
    scope: str | None = None
    user: OAuthUser = Field(alias="data")


class OAuthGrantError(UserError):
    """The token endpoint answered `invalid_grant`: the code or refresh token is no good
    (expired, used, revoked, or a PKCE verifier that does not match)."""


class Pkce(BaseModel):
    verifier: SecretStr
    challenge: str


def new_pkce() -> Pkce:
    """RFC 7636 S256: a 43+ character verifier and its SHA-256 challenge."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return Pkce(verifier=SecretStr(verifier), challenge=base64.urlsafe_b64encode(digest).decode().rstrip("="))


def new_state() -> str:
    return secrets.token_urlsafe(24)


class OAuthClient:
    """One Asana OAuth app (client id + secret) and its endpoints."""

    def __init__(self, settings: Settings, *, http: httpx.Client | None = None) -> None:
        if not settings.oauth_client_id or settings.oauth_client_secret is None:
            raise ConfigError(
                "OAuth needs an Asana app: set SPRINTPILOT_OAUTH_CLIENT_ID and "
                "SPRINTPILOT_OAUTH_CLIENT_SECRET"
            )
        self.client_id = settings.oauth_client_id
        self._secret = settings.oauth_client_secret
        self.authorize_endpoint = settings.oauth_authorize_url
        self.token_endpoint = settings.oauth_token_url
        self.revoke_endpoint = settings.oauth_revoke_endpoint
        self._http = http

    def __repr__(self) -> str:  # never shows the secret
        return f"OAuthClient(client_id={self.client_id!r}, token_endpoint={self.token_endpoint!r})"

    def authorize_url(
        self, *, redirect_uri: str, state: str, code_challenge: str, scope: str | None = None
    ) -> str:
        params = {
            "client_id": self.client_id,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "state": state,
            "code_challenge": code_challenge,
            "code_challenge_method": "S256",
        }
        if scope:
            params["scope"] = scope
        sep = "&" if "?" in self.authorize_endpoint else "?"
        return f"{self.authorize_endpoint}{sep}{urlencode(params)}"

    def exchange_code(self, code: str, *, redirect_uri: str, code_verifier: SecretStr) -> TokenGrant:
        return self._grant(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": code_verifier.get_secret_value(),
            }
        )

    def refresh(self, refresh_token: SecretStr) -> TokenGrant:
        return self._grant({"grant_type": "refresh_token", "refresh_token": refresh_token.get_secret_value()})

    def revoke(self, token: SecretStr) -> None:
        response = self._post(self.revoke_endpoint, {"token": token.get_secret_value()})
        if response.status_code >= 400:
            raise UpstreamError(f"Asana's revoke endpoint answered {_reason(response)}")

    # ---- plumbing ----------------------------------------------------------------------------
    def _grant(self, form: dict[str, str]) -> TokenGrant:
        response = self._post(self.token_endpoint, form)
        if response.status_code == 400 and _json(response).get("error") == "invalid_grant":
            raise OAuthGrantError(f"Asana refused the grant: {_reason(response)}")
        if response.status_code >= 400:
            raise UpstreamError(f"Asana's token endpoint answered {_reason(response)}")
        try:
            return TokenGrant.model_validate(_json(response))
        except ValidationError:
            raise UpstreamError("Asana's token endpoint answered something that is not a token") from None

    def _post(self, url: str, form: dict[str, str]) -> httpx.Response:
        body = {**form, "client_id": self.client_id, "client_secret": self._secret.get_secret_value()}
        try:
            if self._http is not None:
                return self._http.post(url, data=body, timeout=TIMEOUT_S)
            with httpx.Client(timeout=TIMEOUT_S) as http:
                return http.post(url, data=body)
        except httpx.HTTPError as err:
            # The exception text holds the URL at most (the form is in the body, never echoed).
            raise UpstreamError(f"cannot reach {url}: {type(err).__name__}") from None


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _reason(response: httpx.Response) -> str:
    data = _json(response)
    error = data.get("error")
    detail = data.get("error_description")
    text = f"{response.status_code}"
    if error:
        text += f" {error}"
    if detail:
        text += f": {detail}"
    return text
