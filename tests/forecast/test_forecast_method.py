"""The forecast agent uses the backtest's method by default, can be forced, and says which in its output."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from agents.forecast import forecast_specialist
from agents.forecast.compute import compute_forecast
from agents.forecast.proposal import make_proposal
from agents.forecast.schemas import ForecastNarrative
from agents.planner import planner_specialist
from agents.planner.inputs import PastSprint, PlanningInputs
from graphs.registry import SpecialistRegistry
from service.runtime import Runtime, open_runtime
from service.settings import load_settings
from tools.asana.models import Project
from tools.planning.models import BacklogItem, SprintRecord

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
NARRATIVE = ForecastNarrative(headline="h", summary="s")


def _inputs(points: list[float], items: list[int], open_items: int = 40) -> PlanningInputs:
    first = date(2026, 1, 5)
    sprints = []
    for i, (p, n) in enumerate(zip(points, items, strict=True)):
        start = first + timedelta(days=14 * i)
        project = Project(
            gid=f"s{i}", name=f"Sprint {i + 1}", start_on=start, due_on=start + timedelta(days=13)
        )
        record = SprintRecord(
            name=f"Sprint {i + 1}", completed_points=p, completed_items=n, committed_points=p
        )
        sprints.append(PastSprint(number=i + 1, project=project, record=record))
    backlog = [
        BacklogItem(gid=f"b{k}", name=f"item {k}", points=3.0 if k % 4 else None) for k in range(open_items)
    ]
    return PlanningInputs(
        workspace_gid="w",
        backlog=Project(gid="backlog", name="Backlog"),
        items=backlog,
        tasks={},
        done_gids=set(),
        people=[],
        sprints=sprints,
    )


def _steady_items_noisy_points(n: int = 16) -> PlanningInputs:
    rng = np.random.default_rng(4)
    points = [float(sum(rng.choice([1, 2, 3, 5, 8, 13], size=10))) for _ in range(n)]
    return _inputs(points, [10] * n)


def test_auto_uses_the_backtest_choice_and_shows_its_numbers() -> None:
    inputs = _steady_items_noisy_points()
    result = compute_forecast(inputs, scope=None, by=date(2027, 3, 1), today=date(2026, 9, 1))
    assert result.method is not None and result.chosen == "throughput" and not result.method.forced
    assert result.done.unit == "items" and result.done.scope_points == 40  # unestimated items count too
    assert result.by_forecast is not None and result.by_forecast.unit == "items"
    assert set(result.done_by_method) == {"points", "throughput"}
    prop = make_proposal(
        result,
        workspace_gid="w",
        project_gid="backlog",
        project_name="Backlog",
        narrative=NARRATIVE,
        engine="offline",
        prompts=[],
    )
    ev = prop.evidence
    assert ev["method"] == "throughput"
    scores = ev["backtest"]["scores"]
    assert scores["throughput"]["mae_sprints"] < scores["points"]["mae_sprints"]
    assert ev["backtest"]["forecasts"] >= 5 and "cuts" not in ev["backtest"]
    assert "lowest error" in ev["method_reason"]
    text = prop.summary_markdown
    assert "Method: throughput (completed items per sprint), chosen automatically" in text
    mae = scores["throughput"]["mae_sprints"]
    assert f"throughput P50 off by {mae:.2f} sprints" in text
    assert "done (items) by P50" in text and "simulation over past sprints (items)" in text
    chart = next(a for a in prop.actions if a.params.get("filename") == "forecast-fan-chart.png")
    assert chart.params["content_base64"]


def test_forcing_points_overrides_the_backtest_and_says_so() -> None:
    inputs = _steady_items_noisy_points()
    result = compute_forecast(inputs, scope=None, by=None, today=date(2026, 9, 1), method="points")
    assert result.chosen == "points" and result.method is not None and result.method.forced
    assert result.done.unit == "points"
    assert "backtest would pick throughput" in result.method.reason


@pytest.fixture
def rt(tmp_path: Path) -> Iterator[Runtime]:
    settings = load_settings(data_dir=tmp_path, asana_base_url=None, model="offline")
    registry = SpecialistRegistry([planner_specialist(), forecast_specialist()])
    with open_runtime(settings, registry=registry) as r:
        yield r


def test_specialist_on_a_short_history_falls_back_to_points_and_can_be_forced(rt: Runtime) -> None:
    ctx = rt.context(actor="agent:forecast", now=lambda: NOW)
    auto = forecast_specialist().run({}, ctx)  # the specialist alone: it reads, never writes
    assert auto.evidence["method"] == "points"
    assert "too little history" in auto.evidence["method_reason"]
    assert "Method: points (velocity), chosen automatically: too little history" in auto.summary_markdown
    forced = forecast_specialist().run({"method": "throughput", "by": "2027-02-28"}, ctx)
    assert forced.evidence["method"] == "throughput" and forced.evidence["backtest"]["forced"]
    assert "requested; the backtest would pick points" in forced.summary_markdown
    assert forced.evidence["by_forecast"]["unit"] == "items"


def test_cli_method_option_reaches_the_args(monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from service.cli import forecast, main

    seen: list[Any] = []
    monkeypatch.setattr(forecast, "run_specialist_command", lambda name, args, **kw: seen.append(args))
    runner = CliRunner()
    ok = runner.invoke(main.app, ["forecast", "--method", "throughput"], catch_exceptions=False)
    assert ok.exit_code == 0, ok.output
    assert seen[0].method == "throughput"
    bad = runner.invoke(main.app, ["forecast", "--method", "velocity"])
    assert bad.exit_code != 0 and len(seen) == 1
