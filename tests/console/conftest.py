"""Fixtures for the web console: the API app (console included) over the embedded sandbox, with
one runtime held for the test so a test can change the sandbox the pages read."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).parent))  # console_support

from console_support import PRIYA, TOKEN, Console, plan_proposal  # noqa: E402

from service.api import create_api  # noqa: E402
from service.runtime import Runtime, open_runtime  # noqa: E402
from service.settings import load_settings  # noqa: E402


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in (
        "SPRINTPILOT_ASANA_BASE_URL",
        "SPRINTPILOT_DATABASE_URL",
        "SPRINTPILOT_MODEL",
        "SPRINTPILOT_APPROVER",
        "SPRINTPILOT_APPROVERS",
        "SPRINTPILOT_CHAT_APPROVERS",
        "SPRINTPILOT_TOKEN_KEY",
        "SPRINTPILOT_OAUTH_CLIENT_ID",
        "SPRINTPILOT_API_TOKEN",
    ):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def console(tmp_path: Path) -> Iterator[Console]:
    settings = load_settings(
        data_dir=tmp_path, asana_base_url=None, model="offline", api_token=TOKEN, approvers=[PRIYA]
    )
    with open_runtime(settings) as rt:  # migrates the database before the app starts
        plan = plan_proposal(rt)

        @contextmanager
        def factory() -> Iterator[Runtime]:
            yield rt

        with TestClient(create_api(settings, runtime_factory=factory)) as client:
            yield Console(client, rt, plan)
