"""The monthly scorecard: posted to the portfolio through the gate once a month, its numbers in
/metrics from the scheduled run (a scrape computes nothing), and `sprintpilot scorecard --json`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from agents.health.inputs import find_portfolio
from service.api import create_api
from service.cli.main import app
from service.runtime import Runtime, open_runtime
from service.schedules.scorecard import run_scorecard_job
from service.settings import load_settings
from tests.scorecard.conftest import PORTFOLIO, at, proposal_of, run

DEC_1 = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
DEC_2 = datetime(2026, 12, 2, 6, 0, tzinfo=UTC)
JAN_1 = datetime(2027, 1, 1, 6, 0, tzinfo=UTC)


def _updates(rt: Runtime) -> list[str]:
    gid, _ = find_portfolio(rt.asana, rt.allowed_workspaces()[0], PORTFOLIO)
    return [
        u.title or ""
        for u in rt.asana.status_updates(gid)
        if (u.title or "").startswith("sprintpilot scorecard")
    ]


def test_posted_once_a_month_through_the_gate(rt: Runtime) -> None:
    with at(datetime(2026, 11, 18, 9, 0, tzinfo=UTC)):
        run(rt, "triage", {"project": "Product Backlog", "unestimated": True, "limit": 2})
    with at(DEC_1):
        first = run_scorecard_job(rt, PORTFOLIO)
    assert first is not None and first.how == "started" and first.posted, first
    assert _updates(rt) == ["sprintpilot scorecard 2026-12: were its predictions right?"]
    record = rt.repo.get_proposal(str(first.proposal_id))
    assert record is not None and record.status.value == "applied"
    (action,) = record.proposal.actions
    assert action.kind.value == "post_status_update" and action.approval_class is not None
    assert "| triage | story points |" in action.params["text"]

    with at(DEC_1.replace(hour=7)):
        again_today = run_scorecard_job(rt, PORTFOLIO)
    assert again_today is not None and again_today.how == "finished" and not again_today.posted
    with at(DEC_2):
        next_day = run_scorecard_job(rt, PORTFOLIO)
    assert next_day is not None and next_day.how == "started" and not next_day.posted
    quiet = rt.repo.get_proposal(str(next_day.proposal_id))
    assert quiet is not None and quiet.proposal.actions == []  # proposes nothing this month
    assert "already posted this month" in quiet.proposal.title
    assert quiet.proposal.evidence["rows"]  # still today's numbers, for /metrics
    assert len(_updates(rt)) == 1

    with at(JAN_1):
        january = run_scorecard_job(rt, PORTFOLIO)
    assert january is not None and january.posted
    assert len(_updates(rt)) == 2


def test_no_portfolio_configured_runs_nothing(rt: Runtime) -> None:
    assert rt.settings.scorecard_portfolio is None
    assert run_scorecard_job(rt) is None


def test_metrics_expose_the_scheduled_scorecard(rt: Runtime) -> None:
    with at(datetime(2026, 11, 18, 9, 0, tzinfo=UTC)):
        triage = proposal_of(
            rt, run(rt, "triage", {"project": "Product Backlog", "unestimated": True, "limit": 2})
        )

    # One of the estimated tasks is finished with 5 points before the scorecard runs.
    done = triage.evidence["tasks"][0]
    backlog = rt.asana.find_project(rt.allowed_workspaces()[0], "Product Backlog")
    with at(datetime(2026, 11, 19, 9, 0, tzinfo=UTC)):
        points = rt.asana.field_map(backlog.gid).to_custom_fields({"Story Points": 5})
        rt.asana.update_task(done["gid"], {"custom_fields": points, "completed": True})

    @contextmanager
    def factory() -> Iterator[Runtime]:
        yield rt

    api = create_api(rt.settings, engine=rt.engine, runtime_factory=factory)
    with TestClient(api) as client:
        before = client.get("/metrics").text
        assert "sprintpilot_scorecard{" not in before
        with at(DEC_1):
            run_scorecard_job(rt, PORTFOLIO)
        text = client.get("/metrics").text
    labels = f'agent="triage",metric="story_points_mae",portfolio="{PORTFOLIO}"'
    error = abs(done["estimate"]["points"] - 5)
    assert f"sprintpilot_scorecard{{{labels}}} {float(error)}" in text
    assert f"sprintpilot_scorecard_samples{{{labels}}} 1.0" in text


def test_cli_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("SPRINTPILOT_ASANA_BASE_URL", "SPRINTPILOT_DATABASE_URL", "SPRINTPILOT_MODEL"):
        monkeypatch.delenv(var, raising=False)
    settings = load_settings(data_dir=tmp_path, asana_base_url=None, model="offline")
    with at(datetime(2026, 11, 18, 9, 0, tzinfo=UTC)):
        with open_runtime(settings) as rt:
            plan = run(rt, "planner", {"project": "Product Backlog"})
            assert plan.status == "awaiting_approval"
        out = CliRunner().invoke(app, ["scorecard", "--json", "--data-dir", str(tmp_path)])
    assert out.exit_code == 0, out.output
    card = json.loads(out.stdout)
    assert card["estimates"] == [
        {"agent": "planner", "what": "sprint velocity", "n": 0, "pending": 1, "mae": None, "bias": None,
         "mdae": None, "within_range": None}
    ]  # fmt: skip
    assert {d["agent"] for d in card["decisions"]} == {"planner"}
    assert all(d["undecided"] == d["proposed"] for d in card["decisions"])  # nobody decided yet
    assert any(r["metric"] == "sprint_velocity_mae" for r in card["rows"])
    bad = CliRunner().invoke(app, ["scorecard", "--post", "--data-dir", str(tmp_path)])
    assert bad.exit_code == 1 and "--post needs --portfolio" in bad.output
