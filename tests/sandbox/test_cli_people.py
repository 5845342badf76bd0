"""`sprintpilot sandbox` names the seeded people and their own tokens: acting as a person (console,
`/mcp/`, chat `--as`) needs one, and a new user had no way to learn them."""

from __future__ import annotations

import pytest

from sandbox.cli import _echo_people, build_store


def test_the_people_and_their_tokens_are_printed_not_the_service_token(
    capsys: pytest.CaptureFixture[str],
) -> None:
    store, token = build_store(7, None)
    _echo_people(store, token)
    out = capsys.readouterr().out
    assert "priya.brooks@acme.example" in out
    people = {gid for t, gid in store.tokens.items() if t != token}
    assert len(people) >= 2 and all(t in out for t, gid in store.tokens.items() if t != token)
    assert token not in out  # the service account's token is printed on its own line by the command
