"""`serve`'s /oauth/login + /oauth/callback (state checked) and `sprintpilot auth login --paste`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from service.api import create_api
from service.db import migrate
from service.settings import Settings

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def _api(settings: Settings) -> TestClient:
    migrate(settings)
    return TestClient(create_api(settings), base_url="http://127.0.0.1:8000")


def test_serve_callback_logs_in_and_checks_state(oauth_sandbox: Any, oauth_settings: Settings) -> None:
    with _api(oauth_settings) as api:
        start = api.get("/oauth/login", follow_redirects=False)
        assert start.status_code == 303
        authorize = start.headers["location"]
        assert authorize.startswith(oauth_sandbox.url("/-/oauth_authorize"))
        back = httpx.get(f"{authorize}&user={oauth_sandbox.ana}").headers["location"]
        query = parse_qs(urlsplit(back).query)

        forged = api.get("/oauth/callback?" + urlencode({"code": query["code"][0], "state": "forged"}))
        assert forged.status_code == 400
        assert "state mismatch" in forged.text
        foreign = TestClient(api.app, base_url="http://127.0.0.1:8000").get(
            urlsplit(back).path + "?" + urlsplit(back).query
        )
        assert (
            foreign.status_code == 400 and "no login in progress" in foreign.text
        )  # no cookie: other browser

        # The forged try burnt nothing: the code is exchanged only after the state check.
        done = api.get(urlsplit(back).path + "?" + urlsplit(back).query)
        assert done.status_code == 200, done.text
        assert "Logged in to Asana as Ana Lima" in done.text


def test_serve_login_without_key_is_one_line(oauth_settings: Settings) -> None:
    with _api(oauth_settings.model_copy(update={"token_key": None})) as api:
        response = api.get("/oauth/login", follow_redirects=False)
    assert response.status_code == 503
    assert "SPRINTPILOT_TOKEN_KEY is not set" in response.text


def test_auth_login_paste_status_logout(
    oauth_sandbox: Any, oauth_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPRINTPILOT_")}
    env.update(oauth_env)
    proc = subprocess.Popen(
        [sys.executable, "-m", "service.cli.main", "auth", "login", "--paste", "--no-browser"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=env,
    )
    assert proc.stdout is not None and proc.stdin is not None
    url = ""
    for line in proc.stdout:
        if line.startswith("http"):
            url = line.strip()
            break
    assert url.startswith(oauth_sandbox.url("/-/oauth_authorize")), url
    redirected = httpx.get(f"{url}&user={oauth_sandbox.bot}").headers["location"]
    out, err = proc.communicate(redirected + "\n", timeout=120)
    assert proc.returncode == 0, err
    assert "logged in to Asana as sprintpilot bot <bot@acme.test>" in out
    assert "as the service account" in out

    for key, value in oauth_env.items():
        monkeypatch.setenv(key, value)
    from service.cli.main import app

    runner = CliRunner()
    status = runner.invoke(app, ["auth", "status"])
    assert status.exit_code == 0, status.output
    assert "sprintpilot bot" in status.output and "service account" in status.output
    logout = runner.invoke(app, ["auth", "logout"])
    assert logout.exit_code == 0 and "revoked at Asana" in logout.output
    assert "no OAuth login stored" in runner.invoke(app, ["auth", "status"]).output


def test_auth_login_loopback_and_bad_state(
    oauth_sandbox: Any, oauth_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in oauth_env.items():
        monkeypatch.setenv(key, value)
    from service.cli import auth
    from service.cli.main import app

    def browser(url: str) -> bool:  # the user clicks Allow; Asana redirects to the loopback listener
        httpx.get(f"{url}&user={oauth_sandbox.ana}", follow_redirects=True)
        return True

    monkeypatch.setattr(auth, "open_browser", browser)
    result = CliRunner().invoke(app, ["auth", "login", "--port", "0", "--no-service"])
    assert result.exit_code == 0, result.output
    assert "logged in to Asana as Ana Lima" in result.output and "service account" not in result.output

    monkeypatch.setattr(auth, "open_browser", lambda url: True)
    pasted = "http://127.0.0.1:8000/oauth/callback?code=abc&state=someone-else"
    bad = CliRunner().invoke(app, ["auth", "login", "--paste", "--no-browser"], input=pasted + "\n")
    assert bad.exit_code == 1
    assert "state mismatch" in bad.output
