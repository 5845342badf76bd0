"""Signing in to the console with Asana OAuth in a real browser (issue 19): the sandbox plays
Asana's authorization server (its consent page lists the workspace's users; the one picked
authorizes), `/oauth/callback` hands the session to the console, and the inbox then shows only
what that Asana user may see: the Product Backlog is private to the scrum master (and the bot),
so its sprint plan is Priya's to see and never Ravi's.
"""

from __future__ import annotations

import re
import socket
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from playwright.sync_api import expect

from graphs.runner import start_run
from sandbox.generator import generate_workspace
from sandbox.server import SandboxServer
from service.api import create_api
from service.api.server import BackgroundServer
from service.console import dashboards
from service.oauth.tokens import TokenStore
from service.runtime import open_runtime
from service.settings import Settings, load_settings
from tests.browser.conftest import BACKLOG, PRIYA, PRIYA_GID, RAVI, TOKEN

pytestmark = [pytest.mark.browser, pytest.mark.integration]

CLIENT_ID = "1200000000000777"
CLIENT_SECRET = "console-oauth-secret"


@dataclass
class OAuthConsole:
    url: str
    settings: Settings
    sandbox: SandboxServer
    proposal_id: str


def _free_port() -> int:
    # The callback URL names the port, so it is chosen before the server starts.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def oauth_console(tmp_path: Path, offline_env: None) -> Iterator[OAuthConsole]:
    """The seeded workspace served by a standalone sandbox (Asana, with an OAuth app registered
    for loopback callbacks), and the product pointed at it like at app.asana.com."""
    ws = generate_workspace(7)
    store = ws.store
    store.oauth.register_app(
        ["http://127.0.0.1/oauth/callback"],
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        name="sprintpilot",
    )
    backlog = next(p for p in store.projects.values() if p.name == BACKLOG)
    backlog.privacy_setting, backlog.public = "private", False
    backlog.members = [PRIYA_GID, ws.bot_gid]
    port = _free_port()
    with SandboxServer(store, ws.token) as sandbox:
        settings = load_settings(
            data_dir=tmp_path / "data",
            asana_base_url=sandbox.base_url,
            asana_token=ws.token,
            model="offline",
            api_token=TOKEN,
            approvers=[PRIYA],
            token_key=Fernet.generate_key().decode(),
            oauth_client_id=CLIENT_ID,
            oauth_client_secret=CLIENT_SECRET,
            oauth_authorize_url=f"{sandbox.root_url}/-/oauth_authorize",
            oauth_token_url=f"{sandbox.root_url}/-/oauth_token",
            oauth_redirect_uri=f"http://127.0.0.1:{port}/oauth/callback",
        )
        with open_runtime(settings) as rt:  # migrates the database too
            workspace = rt.allowed_workspaces()[0]
            ctx = rt.context(actor="agent:planner", approver_gid=rt.approver_for(workspace, BACKLOG))
            outcome = start_run(
                rt.graph, ctx, uuid.uuid4().hex, {"agent": "planner", "args": {"project": BACKLOG}}
            )
        assert outcome.status == "awaiting_approval" and outcome.interrupt is not None, outcome
        dashboards.CACHE.clear()
        with BackgroundServer(create_api(settings), port=port) as server:
            yield OAuthConsole(server.url, settings, sandbox, str(outcome.interrupt["proposal_id"]))


def _sign_in_with_asana(page: Any, console: OAuthConsole, name: str) -> None:
    """The console's "Sign in with Asana": Asana's consent page, pick the user, Allow, and back
    on the page the person was going to."""
    page.goto(f"{console.url}/inbox")
    page.wait_for_url(re.compile(r"/login\?next=%2Finbox$"))
    page.get_by_role("link", name="Sign in with Asana").click()
    page.wait_for_url(f"{console.sandbox.root_url}/-/oauth_authorize?**")
    expect(page.get_by_role("heading", level=1)).to_contain_text("sprintpilot wants to access")
    page.locator("label", has_text=f"{name} <").locator("input[type=radio]").check()
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(re.compile(rf"^{re.escape(console.url)}/inbox$"))


def test_sign_in_with_asana_shows_only_what_that_user_sees(
    oauth_console: OAuthConsole, new_page: Callable[[], Any]
) -> None:
    ravi = new_page()
    _sign_in_with_asana(ravi, oauth_console, "Ravi Rossi")
    expect(ravi.locator(".who")).to_have_text("Ravi Rossi")
    expect(ravi.locator("tr[data-proposal-id]")).to_have_count(0)
    expect(ravi.get_by_text("Nothing is waiting for approval.")).to_be_visible()
    hidden = ravi.goto(f"{oauth_console.url}/proposals/{oauth_console.proposal_id}")
    assert hidden is not None and hidden.status == 404

    priya = new_page()
    _sign_in_with_asana(priya, oauth_console, "Priya Brooks")
    expect(priya.locator(".who")).to_have_text("Priya Brooks")
    row = priya.locator(f'tr[data-proposal-id="{oauth_console.proposal_id}"]')
    expect(row).to_have_count(1)
    row.get_by_role("link").click()
    expect(priya.get_by_role("button", name="Submit decisions")).to_be_visible()

    # Each sign-in stored that user's own (encrypted) grant: visibility is Asana's own answer.
    with open_runtime(oauth_console.settings) as rt:
        tokens = TokenStore(rt.engine, oauth_console.settings)
        assert tokens.get(PRIYA_GID) is not None
        assert tokens.get(rt.person(RAVI).gid) is not None
