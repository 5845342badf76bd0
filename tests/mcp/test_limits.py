"""The per-session call limit of MCP tools (the API's fixed-window counter, reused)."""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest

from graphs.visibility import Person
from service.mcp.session import McpHost, McpRefused
from service.settings import load_settings


def _no_runtime() -> AbstractContextManager[Any]:
    raise AssertionError("not needed")


def test_calls_past_the_limit_are_refused_per_session(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, asana_base_url=None, mcp_calls_per_minute=2)
    host = McpHost(settings, _no_runtime, lambda: "x", "http")
    priya, ravi = Person(gid="1", email="p@x.test"), Person(gid="2", email="r@x.test")
    host.charge(priya)
    host.charge(priya)
    with pytest.raises(McpRefused, match="at most 2 calls per minute"):
        host.charge(priya)
    host.charge(ravi)  # another session's budget is its own
    assert host.decider(priya) == "mcp:p@x.test"
