"""Fixtures of the MCP tests (helpers and constants: mcp_world.py)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # mcp_world

from mcp_world import BOT_GID, CONFIDENTIAL, INJECTED, INJECTION, PRIYA_GID, RAVI_GID, SECRET, TEAM, World  # noqa: E402

from sandbox.generator import generate_workspace  # noqa: E402
from sandbox.server import SandboxServer  # noqa: E402


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in [k for k in os.environ if k.startswith("SPRINTPILOT_")]:
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def world() -> Iterator[World]:
    ws = generate_workspace(7)
    store = ws.store
    workspace = next(iter(store.workspaces))
    store.add_token("pat-priya", PRIYA_GID)
    store.add_token("pat-ravi", RAVI_GID)
    backlog = next(p for p in store.projects.values() if p.name == "Product Backlog")
    backlog_section = next(s for s in store.sections.values() if s.project == backlog.gid)
    secret = store.add_project(
        workspace, SECRET, team=TEAM, owner=PRIYA_GID, members=[PRIYA_GID, BOT_GID], public=False
    )
    section = store.add_section(secret.gid, "To Do")
    store.add_task(workspace, CONFIDENTIAL, memberships=[(secret.gid, section.gid)], assignee=PRIYA_GID)
    injected = store.add_task(
        workspace, INJECTED, memberships=[(backlog.gid, backlog_section.gid)], notes=INJECTION
    )
    with SandboxServer(store, ws.token) as server:
        yield World(server, ws.token, secret.gid, injected.gid)
