"""The product side: tokens encrypted at rest, refreshed before expiry (once, under a lock),
used by the Asana client per request, and a revoked authorization reported clearly."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import Engine, text

from service.db import make_engine, migrate
from service.oauth.client import OAuthClient, TokenGrant, new_pkce, new_state
from service.oauth.tokens import ServiceToken, TokenStore, service_token
from service.settings import Settings
from tools.asana.client import AsanaClient
from tools.errors import ConfigError, UserError

pytestmark = pytest.mark.integration


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    url = (
        f"sqlite:///{tmp_path / 'app.db'}" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    )
    migrate(url)
    eng = make_engine(url)
    yield eng
    eng.dispose()


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


class CountingClient(OAuthClient):
    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.refreshes = 0

    def refresh(self, refresh_token: SecretStr) -> TokenGrant:
        self.refreshes += 1
        return super().refresh(refresh_token)


def _login(settings: Settings, user: str) -> TokenGrant:
    """The authorization code flow as `auth login` runs it, the browser replaced by `user=`."""
    client = OAuthClient(settings)
    pkce, state = new_pkce(), new_state()
    redirect = "http://127.0.0.1:8976/callback"
    url = client.authorize_url(redirect_uri=redirect, state=state, code_challenge=pkce.challenge)
    location = httpx.get(f"{url}&user={user}").headers["location"]
    query = parse_qs(urlsplit(location).query)
    assert query["state"] == [state]
    return client.exchange_code(query["code"][0], redirect_uri=redirect, code_verifier=pkce.verifier)


def _dump(engine: Engine) -> str:
    with engine.connect() as conn:
        return repr(conn.execute(text("SELECT * FROM oauth_tokens")).all())


def test_login_refresh_revoke_end_to_end(
    oauth_sandbox: Any, oauth_settings: Settings, engine: Engine
) -> None:
    sb, clock = oauth_sandbox, Clock()
    client = CountingClient(oauth_settings)
    store = TokenStore(engine, oauth_settings, client=client, clock=clock)
    grant = _login(oauth_settings, sb.bot)
    saved = store.save(grant, service=True)
    assert saved.user_gid == sb.bot and saved.service
    # Encrypted at rest: neither token's text is in the row.
    row = _dump(engine)
    assert grant.access_token.get_secret_value() not in row
    assert grant.refresh_token is not None and grant.refresh_token.get_secret_value() not in row
    assert "sprintpilot bot" in row
    # Never shown either.
    assert grant.access_token.get_secret_value() not in repr(grant) + repr(store) + repr(saved)

    source = service_token(engine, oauth_settings)
    with AsanaClient(oauth_settings.asana_base_url or "", source) as asana:
        assert [w.name for w in asana.workspaces()] == ["Acme"]
    assert store.access_token_for(sb.bot).get_secret_value() == grant.access_token.get_secret_value()
    assert client.refreshes == 0

    # Within a minute of expiry: refreshed (Asana's clock moves too, so the old token is dead there).
    clock.now += timedelta(seconds=3550)
    asana_now = datetime.now(UTC) + timedelta(seconds=3601)
    sb.store.set_clock(lambda: asana_now)
    fresh = store.access_token_for(sb.bot)
    assert client.refreshes == 1 and fresh.get_secret_value() != grant.access_token.get_secret_value()
    assert fresh.get_secret_value() not in _dump(engine)
    provider = ServiceToken(store, sb.bot, clock=clock)
    with AsanaClient(oauth_settings.asana_base_url or "", provider) as asana:
        assert asana.workspaces()[0].name == "Acme"
    assert client.refreshes == 1  # the row was fresh: no second refresh

    # The user revokes the app in Asana; the next refresh is refused and the row goes.
    refresh = grant.refresh_token.get_secret_value()
    revoked = httpx.post(
        sb.url("/-/oauth_revoke"),
        data={"client_id": client.client_id, "client_secret": "sandbox-secret", "token": refresh},
    )
    assert revoked.status_code == 200
    clock.now += timedelta(hours=2)
    with pytest.raises(UserError) as err:
        store.access_token_for(sb.bot)
    assert str(err.value) == (
        "the Asana authorization of sprintpilot bot <bot@acme.test> was revoked; run `sprintpilot auth login`"
    )
    assert store.get(sb.bot) is None
    with pytest.raises(ConfigError, match="no service account is logged in"):
        service_token(engine, oauth_settings)


def test_two_workers_refresh_once(oauth_sandbox: Any, oauth_settings: Settings, engine: Engine) -> None:
    clock = Clock()
    client = CountingClient(oauth_settings)
    stores = [TokenStore(engine, oauth_settings, client=client, clock=clock) for _ in range(2)]
    stores[0].save(_login(oauth_settings, oauth_sandbox.ana))
    clock.now += timedelta(seconds=3590)
    results: list[str] = []
    threads = [
        threading.Thread(
            target=lambda s=s: results.append(s.access_token_for(oauth_sandbox.ana).get_secret_value())
        )
        for s in stores
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert client.refreshes == 1 and len(set(results)) == 1


def test_logout_revokes_at_asana(oauth_sandbox: Any, oauth_settings: Settings, engine: Engine) -> None:
    store = TokenStore(engine, oauth_settings)
    grant = _login(oauth_settings, oauth_sandbox.ana)
    store.save(grant)
    assert store.revoke(oauth_sandbox.ana) is not None
    assert store.get(oauth_sandbox.ana) is None
    me = httpx.get(
        oauth_sandbox.server.base_url + "/users/me",
        headers={"Authorization": f"Bearer {grant.access_token.get_secret_value()}"},
    )
    assert me.status_code == 401


def test_no_key_no_storage(oauth_sandbox: Any, oauth_settings: Settings, engine: Engine) -> None:
    settings = oauth_settings.model_copy(update={"token_key": None})
    with pytest.raises(ConfigError) as err:
        TokenStore(engine, settings).save(_login(oauth_settings, oauth_sandbox.ana))
    assert "SPRINTPILOT_TOKEN_KEY is not set" in str(err.value) and "\n" not in str(err.value)
    assert _dump(engine) == "[]"
    bad = oauth_settings.model_copy(update={"token_key": SecretStr("not-a-key")})
    with pytest.raises(ConfigError, match="not a Fernet key"):
        TokenStore(engine, bad).check_key()
