"""Fixtures: a sandbox runtime (SQLite, offline) and the backlog's owner acting in Asana."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from service.runtime import Runtime, open_runtime
from service.settings import load_settings
from tests.feedback.world import Person
from tools.asana.client import AsanaClient


@pytest.fixture
def rt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    for var in ("SPRINTPILOT_ASANA_BASE_URL", "SPRINTPILOT_DATABASE_URL", "SPRINTPILOT_MODEL"):
        monkeypatch.delenv(var, raising=False)
    settings = load_settings(data_dir=tmp_path, asana_base_url=None, model="offline")
    with open_runtime(settings) as runtime:
        yield runtime


@pytest.fixture
def po(rt: Runtime) -> Iterator[Person]:
    """The backlog's owner, acting in Asana with their own token."""
    assert rt.sandbox is not None
    backlog = rt.asana.find_project(rt.allowed_workspaces()[0], "Product Backlog")
    assert backlog.owner is not None
    token = rt.sandbox.token_for(backlog.owner.gid)
    assert token
    with AsanaClient(rt.sandbox.base_url, token) as client:
        yield Person(backlog.owner.gid, client)
