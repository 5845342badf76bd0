"""Dashboards over the seeded sandbox, signed in through the console: the data tables hold the
agents' numbers, and only what the person can see in Asana."""

from __future__ import annotations

import re
import sys
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


def test_accuracy_falls_back_to_a_backtest_of_the_estimator(client: TestClient) -> None:
    """The seed has no finished task with sprintpilot's own estimate, so the page backtests the
    estimator on finished tasks (each from earlier ones only) and says so."""
    r = client.get("/dashboards/accuracy")
    assert r.status_code == 200, r.text
    assert 'data-source="backtest"' in r.text and "Source: backtest." in r.text
    rows = tables(r.text)["data"]
    assert rows[0] == ["task", "finished", "estimate", "actual", "error"]
    body = rows[1:]
    assert len(body) >= 30, body
    assert [row[1] for row in body] == sorted(row[1] for row in body)  # completion order
    for _task, _day, estimate, actual, error in body:
        assert num(actual) > 0 and num(estimate) > 0
        assert num(error) == pytest.approx(num(estimate) - num(actual), abs=0.11)
    assert "Mean absolute error" in r.text


def test_backtest_estimates_each_task_from_earlier_tasks_only() -> None:
    from tools.estimation.backtest import time_ordered_backtest
    from tools.estimation.models import PastTask

    day = datetime(2026, 1, 1, tzinfo=UTC)
    history = [
        (PastTask(id=str(i), title=f"small fix {i}", points=1), day.replace(day=1 + i)) for i in range(6)
    ]
    # The same title finished later with 13 points must not leak into the earlier one's estimate.
    late = (PastTask(id="late", title="rewrite billing engine", points=13), day.replace(day=20))
    early = (PastTask(id="early", title="rewrite billing engine", points=1), day.replace(day=10))
    rows = {r.task.id: r for r in time_ordered_backtest([late, *history, early], min_history=5)}
    assert set(rows) == {"5", "early", "late"}  # the first five only build the index
    assert rows["5"].history == 5 and rows["early"].history == 6 and rows["late"].history == 7
    assert rows["early"].estimate == 1  # only 1-point tasks came before it


def test_sprint_page_defaults_to_the_last_finished_sprint_with_a_picker(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After Sprint 23 ended (and no sprint is active) a plain /dashboards/sprint used to answer
    404 "no sprint is active"; it shows the last finished sprint and offers the others."""
    monkeypatch.setattr(sys.modules[__name__], "NOW", datetime(2026, 12, 5, 9, 0, tzinfo=UTC))
    r = client.get("/dashboards/sprint")
    assert r.status_code == 200, r.text
    assert "Sprint burndown: Sprint 23" in r.text
    picker = re.search(r'<select id="ref" name="project" data-testid="picker">(.*?)</select>', r.text, re.S)
    assert picker is not None
    options = re.findall(r'<option value="(\d+)"( selected)?>([^<]+)</option>', picker.group(1))
    labels = [label for _, _, label in options]
    assert labels[:2] == ["Sprint 23 (finished)", "Sprint 22 (finished)"]
    assert [label for _, selected, label in options if selected] == ["Sprint 23 (finished)"]
    other = next(gid for gid, _, label in options if label.startswith("Sprint 21"))
    picked = client.get("/dashboards/sprint", params={"project": other})
    assert picked.status_code == 200 and "Sprint burndown: Sprint 21" in picked.text


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[tuple[TestClient, Runtime]]:
    """A workspace of its own: the test changes a seeded sprint."""
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
            sign_in(c, PRIYA)
            yield c, rt


def test_scope_changes_after_the_sprint_started(fresh: tuple[TestClient, Runtime]) -> None:
    """The seed plans every task at the sprint's start, so its scope-change table is empty; a task
    added and one removed mid-sprint (through the Asana API, on the sandbox's clock) are listed
    from their stories, with their points."""
    c, rt = fresh
    assert rt.sandbox is not None
    ws = rt.resolve_workspace()
    sprint = rt.asana.find_project(ws, "Sprint 23")
    backlog = rt.asana.find_project(ws, "Product Backlog")
    before = tables(c.get("/dashboards/sprint", params={"project": "Sprint 23"}).text)
    assert before["scope-changes"][1:] == [["No data."]]
    untouched = {row[0]: row for row in before["data"][1:]}
    in_sprint = {t.gid for t in rt.asana.project_tasks(sprint.gid)}
    added = next(
        t
        for t in rt.asana.project_tasks(backlog.gid)
        if not t.completed and t.gid not in in_sprint and (t.number("Story Points") or 0) > 0
    )
    removed = next(
        t
        for t in rt.asana.project_tasks(sprint.gid)
        if not t.completed and (t.number("Story Points") or 0) > 0
    )
    rt.sandbox.store.set_clock(lambda: datetime(2026, 11, 16, 10, 0, tzinfo=UTC))
    try:
        rt.asana.add_task_to_project(added.gid, sprint.gid)
        rt.asana.remove_task_from_project(removed.gid, sprint.gid)
    finally:
        rt.sandbox.store.set_clock(None)
    dashboards.CACHE.clear()
    r = c.get("/dashboards/sprint", params={"project": "Sprint 23"})
    assert r.status_code == 200, r.text
    rows = tables(r.text)["scope-changes"]
    assert rows[0] == ["day", "task", "change", "points"]
    assert sorted(rows[1:]) == sorted(
        [
            ["2026-11-16", added.name, "added", f"{added.number('Story Points'):+g}"],
            ["2026-11-16", removed.name, "removed", f"{-(removed.number('Story Points') or 0):+g}"],
        ]
    )
    # The scope and remaining lines move on the day of the change, not before: the removed task
    # counts until it left, the added one from when it joined (neither was done).
    delta = (added.number("Story Points") or 0) - (removed.number("Story Points") or 0)
    for day, scope, remaining, ideal, done in tables(r.text)["data"][1:]:
        was = untouched[day]
        moved = delta if day >= "2026-11-16" else 0
        assert (num(scope), num(remaining)) == (num(was[1]) + moved, num(was[2]) + moved), day
        assert (ideal, done) == (was[3], was[4]), day
