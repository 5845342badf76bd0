"""Issue 18: with a person's own OAuth token, what sprintpilot lets them see is Asana's own
answer for that token (not the service account's reading of privacy settings)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import SecretStr

from service.oauth.tokens import TokenStore
from service.runtime import open_runtime
from service.settings import Settings
from tests.oauth.test_token_store import _login

pytestmark = pytest.mark.integration


def test_a_signed_in_user_sees_only_what_their_token_lists(
    oauth_sandbox: Any, oauth_settings: Settings
) -> None:
    store = oauth_sandbox.store
    ws = next(iter(store.workspaces))
    team = store.add_team(ws, "Core", members=[oauth_sandbox.bot]).gid
    shared = store.add_project(ws, "Shared board", team=team, owner=oauth_sandbox.bot).gid
    private = store.add_project(
        ws,
        "Board of directors",
        team=team,
        owner=oauth_sandbox.bot,
        members=[oauth_sandbox.bot],
        public=False,
    ).gid
    # The service account works with its PAT; Ana signed in with OAuth.
    settings = oauth_settings.model_copy(update={"asana_token": SecretStr("pat-bot"), "asana_auth": "pat"})
    with open_runtime(settings) as rt:
        TokenStore(rt.engine, rt.settings).save(_login(oauth_settings, oauth_sandbox.ana))
        assert rt.user_client(oauth_sandbox.ana) is not None
        ana = rt.viewer(rt.person("ana@acme.test"))
        assert ana.sees(shared) and not ana.sees(private)
        bot = rt.viewer(rt.person("bot@acme.test"))  # no token of his own: the service's reading
        assert rt.user_client(oauth_sandbox.bot) is None
        assert bot.sees(shared) and bot.sees(private)
