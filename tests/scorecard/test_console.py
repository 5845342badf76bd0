"""The console's scorecard page: the live scorecard's tables for what the signed-in person sees."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.api import create_api
from service.console import dashboards
from service.runtime import Runtime, open_runtime
from service.settings import load_settings
from tests.console.test_dashboards import PRIYA, pin_clock, sign_in, tables
from tests.scorecard.conftest import at, proposal_of, run


@pytest.fixture
def client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[TestClient, Runtime]]:
    for var in ("SPRINTPILOT_ASANA_BASE_URL", "SPRINTPILOT_DATABASE_URL", "SPRINTPILOT_MODEL"):
        monkeypatch.delenv(var, raising=False)
    settings = load_settings(
        data_dir=tmp_path, asana_base_url=None, model="offline", api_token="tok", approvers=[PRIYA]
    )
    with open_runtime(settings) as runtime:
        rt = pin_clock(runtime)

        @contextmanager
        def factory() -> Iterator[Runtime]:
            yield rt

        with TestClient(create_api(settings, runtime_factory=factory)) as c:
            dashboards.CACHE.clear()
            yield c, rt


def test_the_scorecard_page_shows_the_agents_predictions(client: tuple[TestClient, Runtime]) -> None:
    c, rt = client
    with at(datetime(2026, 11, 18, 9, 0, tzinfo=UTC)):
        triage = proposal_of(
            rt, run(rt, "triage", {"project": "Product Backlog", "unestimated": True, "limit": 2})
        )
    sign_in(c, PRIYA)
    assert 'href="/dashboards/scorecard"' in c.get("/dashboards").text
    r = c.get("/dashboards/scorecard")
    assert r.status_code == 200, r.text
    found = tables(r.text)
    assert found["estimates"][0][:4] == ["agent", "predicts", "scored", "pending"]
    assert found["estimates"][1][:4] == ["triage", "story points", "0", str(len(triage.evidence["tasks"]))]
    assert "proposal(s) sprintpilot made on the projects you can see" in r.text
    assert c.get("/dashboards/scorecard", params={"project": "No such project"}).status_code == 404
