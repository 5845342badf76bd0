"""Fixtures for OAuth tests: a sandbox with a registered OAuth app, and settings that use it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from sandbox.server import SandboxServer
from sandbox.store import Store
from service.settings import Settings, load_settings

CLIENT_ID = "1200000000000999"
CLIENT_SECRET = "sandbox-secret"
SERVE_CALLBACK = "http://127.0.0.1:8000/oauth/callback"


@dataclass
class OAuthSandbox:
    server: SandboxServer
    bot: str
    ana: str

    @property
    def store(self) -> Store:
        return self.server.store

    def url(self, path: str) -> str:
        return f"{self.server.root_url}{path}"


@pytest.fixture
def oauth_sandbox() -> Iterator[OAuthSandbox]:
    store = Store()
    ws = store.add_workspace("Acme").gid
    bot = store.add_user("sprintpilot bot", "bot@acme.test", workspaces=[ws]).gid
    ana = store.add_user("Ana Lima", "ana@acme.test", workspaces=[ws]).gid
    store.add_token("pat-bot", bot)
    store.oauth.register_app(
        ["http://127.0.0.1/callback", SERVE_CALLBACK],
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        name="sprintpilot",
    )
    with SandboxServer(store, "pat-bot") as server:
        yield OAuthSandbox(server, bot, ana)


@pytest.fixture
def token_key() -> str:
    return Fernet.generate_key().decode()


@pytest.fixture
def oauth_env(oauth_sandbox: OAuthSandbox, tmp_path: Path, token_key: str) -> dict[str, str]:
    """SPRINTPILOT_* variables of a service that logs in to the sandbox with OAuth (SQLite DB)."""
    sandbox = oauth_sandbox
    return {
        "SPRINTPILOT_DATA_DIR": str(tmp_path / "data"),
        "SPRINTPILOT_ASANA_BASE_URL": sandbox.server.base_url,
        "SPRINTPILOT_OAUTH_CLIENT_ID": CLIENT_ID,
        "SPRINTPILOT_OAUTH_CLIENT_SECRET": CLIENT_SECRET,
        "SPRINTPILOT_OAUTH_AUTHORIZE_URL": sandbox.url("/-/oauth_authorize"),
        "SPRINTPILOT_OAUTH_TOKEN_URL": sandbox.url("/-/oauth_token"),
        "SPRINTPILOT_TOKEN_KEY": token_key,
    }


@pytest.fixture
def oauth_settings(oauth_env: dict[str, str]) -> Settings:
    env = oauth_env
    return load_settings(**{k.removeprefix("SPRINTPILOT_").lower(): v for k, v in env.items()})
