"""Forecast and health through supervisor → policy → publish → apply against the embedded sandbox."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agents.forecast import forecast_specialist
from agents.health import health_specialist
from agents.planner import planner_specialist
from graphs.registry import SpecialistRegistry
from graphs.runner import start_run
from service.runtime import Runtime, open_runtime
from service.settings import load_settings

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture
def rt(tmp_path: Path) -> Iterator[Runtime]:
    settings = load_settings(data_dir=tmp_path, asana_base_url=None, model="offline")
    registry = SpecialistRegistry([planner_specialist(), forecast_specialist(), health_specialist()])
    with open_runtime(settings, registry=registry) as r:
        yield r


def _run(rt: Runtime, agent: str, args: dict, thread: str):
    ctx = rt.context(actor=f"agent:{agent}", now=lambda: NOW)
    return start_run(rt.graph, ctx, thread, {"agent": agent, "args": args, "trigger": "cli"})


def _mutations(rt: Runtime) -> Counter[str]:
    assert rt.sandbox is not None
    return Counter(rt.sandbox.store.stats.snapshot()["mutating"])


def test_forecast_posts_status_update_and_fan_chart(rt: Runtime) -> None:
    out = _run(rt, "forecast", {"scope": "tag:backend", "by": "2027-02-28"}, "fc-1")
    assert out.status == "done", out.report
    assert out.report is not None and out.report["status"] == "applied"
    muts = _mutations(rt)
    assert muts["POST /status_updates"] == 1
    assert sum(v for k, v in muts.items() if "attachments" in k) == 1
    backlog = rt.asana.find_project(rt.allowed_workspaces()[0], "Product Backlog")
    updates = [u for u in rt.asana.status_updates(backlog.gid) if (u.title or "").startswith("Forecast")]
    assert len(updates) == 1
    text = updates[0].text or ""
    assert "P50" in text and "P85" in text and "P95" in text and "tag backend" in text
    assert "Capacity vs workload" in text
    pngs = [a for a in rt.asana.attachments(backlog.gid) if (a.name or "").endswith(".png")]
    assert len(pngs) == 1


def test_a_scope_nothing_carries_is_refused_not_forecast_as_done(rt: Runtime) -> None:
    # Before: "Tag nosuch (0 points) is likely done by …", exit 0, and a status update posted.
    for scope in ("tag:nosuch", "section:Nope", "epic:Nope"):
        out = _run(rt, "forecast", {"scope": scope}, f"fc-{scope}")
        assert out.report is not None and out.report["status"] == "error"
        kind, _, name = scope.partition(":")
        assert out.report["error"] == f"no backlog item, open or done, is in the {kind} {name!r}"
    assert _mutations(rt)["POST /status_updates"] == 0


def test_health_scores_the_portfolio_and_shows_each_component(rt: Runtime) -> None:
    out = _run(rt, "health", {"portfolio": "Mobile Portfolio"}, "health-1")
    assert out.status == "done", out.report
    assert out.report is not None and out.report["status"] == "applied", out.report
    muts = _mutations(rt)
    assert muts["POST /status_updates"] == 2  # the portfolio's own update + the current sprint's
    assert rt.sandbox is not None
    portfolio = next(p for p in rt.sandbox.store.portfolios.values() if p.name == "Mobile Portfolio")
    on_portfolio = [u for u in rt.asana.status_updates(portfolio.gid) if (u.title or "").startswith("Health")]
    assert len(on_portfolio) == 1
    sprint23 = rt.asana.find_project(rt.allowed_workspaces()[0], "Sprint 23")
    updates = [u for u in rt.asana.status_updates(sprint23.gid) if (u.title or "").startswith("Health")]
    assert len(updates) == 1
    text = updates[0].text or ""
    for label in ("Completion", "Carry-over", "Blockers", "Forecast risk", "Retro sentiment"):
        assert label in text
    assert "Trend over the last sprints" in text
