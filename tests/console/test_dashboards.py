"""Dashboards over the seeded sandbox, signed in through the console: the data tables hold the
agents' numbers, and only what the person can see in Asana."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.api import create_api
from service.console import dashboards
from service.console.dashboard_data import Dashboard
from service.runtime import Runtime, open_runtime
from service.settings import load_settings

PRIYA = "priya.brooks@acme.example"
# The last day of the seeded Sprint 23 (2026-11-09 → 2026-11-20), whatever the real date is.
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


class Tables(HTMLParser):
    """Cell texts of each `<table data-testid=…>`, row by row."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._current: str | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._current = dict(attrs).get("data-testid") or ""
            self.tables[self._current] = []
        elif tag == "tr" and self._current is not None:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._row is not None and self._cell is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._current is not None and self._row is not None:
            self.tables[self._current].append(self._row)
            self._row = None
        elif tag == "table":
            self._current = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def tables(html: str) -> dict[str, list[list[str]]]:
    parser = Tables()
    parser.feed(html)
    return parser.tables


def num(text: str) -> float:
    return float(text.replace(",", ""))


def pin_clock(runtime: Runtime) -> Runtime:
    context = runtime.context

    def pinned(**kw: Any) -> Any:
        return context(**{"now": lambda: NOW, **kw})

    runtime.context = pinned  # type: ignore[method-assign]
    return runtime


@pytest.fixture(scope="module")
def app_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Runtime]]:
    data_dir: Path = tmp_path_factory.mktemp("console-dash")
    settings = load_settings(
        data_dir=data_dir,
        asana_base_url=None,
        model="offline",
        api_token="tok",
        approvers=[PRIYA],
        # Explicit: a module-scoped fixture runs before the per-test environment cleaning.
        database_url=None,
        approver=None,
    )
    with open_runtime(settings) as runtime:
        rt = pin_clock(runtime)

        @contextmanager
        def factory() -> Iterator[Runtime]:
            yield rt

        app = create_api(settings, runtime_factory=factory)
        with TestClient(app) as client:
            yield client, rt


def sign_in(client: TestClient, user: str) -> None:
    client.cookies.clear()
    form = client.get("/login").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', form)
    assert csrf is not None
    r = client.post(
        "/login",
        data={"token": "tok", "user": user, "csrf": csrf.group(1), "next": "/dashboards"},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text


@pytest.fixture
def client(app_client: tuple[TestClient, Runtime]) -> TestClient:
    dashboards.CACHE.clear()
    c, _ = app_client
    sign_in(c, PRIYA)
    return c


def test_index_links_every_dashboard(client: TestClient) -> None:
    r = client.get("/dashboards")
    assert r.status_code == 200
    for page in ("sprint", "velocity", "capacity", "health", "accuracy", "noise"):
        assert f'href="/dashboards/{page}"' in r.text


def test_velocity_names_the_sprints_and_fans_out(client: TestClient) -> None:
    r = client.get("/dashboards/velocity", params={"project": "Product Backlog"})
    assert r.status_code == 200, r.text
    rows = tables(r.text)["data"]
    assert rows[0] == ["sprint", "committed points", "completed points", "P10", "P50", "P90"]
    past = {row[0]: num(row[2]) for row in rows[1:7]}
    assert past == {
        "Sprint 18": 41,
        "Sprint 19": 39,
        "Sprint 20": 36,
        "Sprint 21": 36,
        "Sprint 22": 36,
        "Sprint 23": 37,
    }
    fan = rows[7:]
    assert [row[0] for row in fan] == [f"Sprint {n} (forecast, cumulative)" for n in range(24, 30)]
    previous = 0.0
    for row in fan:
        p10, p50, p90 = num(row[3]), num(row[4]), num(row[5])
        assert p10 <= p50 <= p90 and p50 > previous
        previous = p50
    assert "next 6 sprints" in r.text  # the horizon is stated
    assert '<svg xmlns="http://www.w3.org/2000/svg" role="img"' in r.text
    assert "scope" in r.text


def test_capacity_per_person(client: TestClient) -> None:
    r = client.get("/dashboards/capacity")
    assert r.status_code == 200, r.text
    rows = tables(r.text)["data"]
    names = {row[0] for row in rows[1:]}
    assert {"Priya Brooks", "Ravi Rossi", "Tomás Lopez"} <= names
    tomas = next(row for row in rows if row[0] == "Tomás Lopez")
    assert num(tomas[2]) == 5 and tomas[5] == "yes"  # 5 assigned against 0.9: over-allocated


def test_sprint_burndown_of_the_active_sprint(client: TestClient) -> None:
    r = client.get("/dashboards/sprint")
    assert r.status_code == 200, r.text
    assert "Sprint 23" in r.text
    found = tables(r.text)
    rows = found["data"][1:]
    assert rows and rows[0][0] == "2026-11-09" and rows[-1][0] == "2026-11-20"
    for _day, scope, remaining, _ideal, done in rows:
        assert num(remaining) == pytest.approx(num(scope) - num(done))
    assert "scope-changes" in found


def test_health_of_the_portfolio(client: TestClient) -> None:
    r = client.get("/dashboards/health")
    assert r.status_code == 200, r.text
    found = tables(r.text)
    rows = found["data"][1:]
    assert [row[0] for row in rows][-1] == "Sprint 23"
    for row in rows:
        assert 0 <= num(row[1]) <= 100
    components = [row[0] for row in found["components"][1:]]
    assert components == ["Completion", "Carry-over", "Blockers", "Forecast risk", "Retro sentiment"]


def test_accuracy_and_noise_pages_render(client: TestClient) -> None:
    r = client.get("/dashboards/accuracy")
    assert r.status_code == 200, r.text
    assert "data" in tables(r.text)
    r = client.get("/dashboards/noise")
    assert r.status_code == 200, r.text
    assert tables(r.text)["data"][0][0] == "day"


def test_missing_project_is_a_404_with_one_line(client: TestClient) -> None:
    r = client.get("/dashboards/velocity", params={"project": "No Such Backlog"})
    assert r.status_code == 404
    assert "no project named" in r.text and "Traceback" not in r.text


def test_signed_out_goes_to_login(app_client: tuple[TestClient, Runtime]) -> None:
    c, _ = app_client
    c.cookies.clear()
    r = c.get("/dashboards/velocity", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_cache_is_per_person_and_expires() -> None:
    cache = dashboards.TtlCache(ttl_s=60)
    calls: list[str] = []

    def make(tag: str) -> Dashboard:
        calls.append(tag)
        return Dashboard(title=tag, chart="", tables=[])

    assert cache.get_or_make(("v", "", "1"), lambda: make("a")).title == "a"
    assert cache.get_or_make(("v", "", "1"), lambda: make("b")).title == "a"
    assert cache.get_or_make(("v", "", "2"), lambda: make("c")).title == "c"
    assert calls == ["a", "c"]
    cache.ttl_s = 0
    assert cache.get_or_make(("v", "", "1"), lambda: make("d")).title == "d"
