"""A run whose inputs did not change writes nothing (issue 16, reproduction 2): a second
`review`, `forecast`, `health` or `retro` posted identical comments, status updates, charts and
approval tasks; a retro that changed left two approval tasks open; and nothing bounded a day's
automatic writes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from service.cli import main
from service.runtime import open_runtime
from service.settings import load_settings

runner = CliRunner()


pytestmark = pytest.mark.usefixtures("offline_env")


def _writes(data_dir: Path) -> int:
    with open_runtime(load_settings(data_dir=data_dir)) as rt:
        assert rt.sandbox is not None
        return int(rt.sandbox.store.stats.snapshot()["mutating_total"])


def _run(data_dir: Path, *args: str) -> dict[str, object]:
    result = runner.invoke(main.app, [*args, "--json", "--data-dir", str(data_dir)])
    assert result.exit_code == 0, result.output
    payload: dict[str, object] = json.loads(result.output)
    return payload


def _backlog_task(data_dir: Path) -> str:
    with open_runtime(load_settings(data_dir=data_dir)) as rt:
        ws = rt.resolve_workspace()
        backlog = rt.asana.find_project(ws, "Product Backlog")
        assert backlog is not None
        return str(next(iter(rt.asana.project_tasks(backlog.gid))).gid)


@pytest.mark.parametrize(
    "args",
    [
        ("forecast", "--project", "Product Backlog"),
        ("health",),
        ("review", "--task", "{task}"),
    ],
)
def test_a_second_identical_run_writes_nothing(tmp_path: Path, args: tuple[str, ...]) -> None:
    task = _backlog_task(tmp_path)
    argv = [a.format(task=task) for a in args]
    first = _run(tmp_path, *argv)
    assert first["status"] != "error"
    before = _writes(tmp_path)
    second = _run(tmp_path, *argv)
    assert _writes(tmp_path) == before, "the second run wrote to Asana"
    answer = second["answer"]
    assert isinstance(answer, dict)
    quiet = answer["evidence"]["quiet"]
    assert quiet["repeats"], quiet
    assert "already in Asana" in answer["summary_markdown"]


def test_a_repeated_retro_opens_no_second_approval_and_a_changed_one_replaces_the_first(
    tmp_path: Path,
) -> None:
    first = _run(tmp_path, "retro")
    assert first["status"] == "awaiting_approval"
    before = _writes(tmp_path)
    again = _run(tmp_path, "retro")
    assert _writes(tmp_path) == before
    answer = again["answer"]
    assert isinstance(answer, dict)
    first_id = first["approval_request"]["proposal_id"]  # type: ignore[index]
    assert answer["evidence"]["quiet"]["waiting_proposal"] == first_id
    assert "still waits for a decision" in answer["summary_markdown"]

    # The sprint's facts change (a delivered item is renamed): the new retro replaces the waiting one.
    with open_runtime(load_settings(data_dir=tmp_path)) as rt:
        sprint = rt.asana.find_project(rt.resolve_workspace(), "Sprint 23")
        assert sprint is not None
        done = next(t for t in rt.asana.project_tasks(sprint.gid) if t.completed)
        rt.asana.update_task(done.gid, {"name": "Ship the renamed returns flow"})
    changed = _run(tmp_path, "retro")
    assert changed["status"] == "awaiting_approval"
    with open_runtime(load_settings(data_dir=tmp_path)) as rt:
        statuses = {p.id: p.status.value for p in rt.repo.list_proposals()}
    new_id = changed["approval_request"]["proposal_id"]  # type: ignore[index]
    assert statuses[new_id] == "pending"
    assert statuses[first_id] == "superseded"
    assert list(statuses.values()).count("pending") == 1


def test_the_daily_write_budget_holds_automatic_writes_back_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SPRINTPILOT_APPROVAL_POLICY", json.dumps({"daily_write_budget": 4}))
    before = _writes(tmp_path)
    out = _run(tmp_path, "triage", "--project", "Product Backlog", "--unestimated", "--limit", "3")
    answer = out["answer"]
    assert isinstance(answer, dict)
    held = answer["evidence"]["quiet"]["held_back"]
    assert len(held) > 0
    assert "Daily write budget" in answer["summary_markdown"]
    assert _writes(tmp_path) - before <= 4
    # Budget spent: the next run writes nothing automatic at all.
    mid = _writes(tmp_path)
    again = _run(tmp_path, "triage", "--project", "Product Backlog", "--unestimated", "--limit", "1")
    assert _writes(tmp_path) == mid
    assert "held back" in again["answer"]["summary_markdown"]  # type: ignore[index]


def test_a_redrawn_forecast_replaces_its_chart(tmp_path: Path) -> None:
    """Material change → a new status update, and the fan chart is replaced, not piled up."""
    _run(tmp_path, "forecast", "--project", "Product Backlog")
    with open_runtime(load_settings(data_dir=tmp_path)) as rt:
        backlog = rt.asana.find_project(rt.resolve_workspace(), "Product Backlog")
        task = next(t for t in rt.asana.project_tasks(backlog.gid) if not t.completed)
        rt.asana.update_task(task.gid, {"completed": True})  # the scope changed
    second = _run(tmp_path, "forecast", "--project", "Product Backlog")
    assert "quiet" not in second["answer"]["evidence"]  # type: ignore[index]
    with open_runtime(load_settings(data_dir=tmp_path)) as rt:
        charts = [a for a in rt.asana.attachments(backlog.gid) if a.name == "forecast-fan-chart.png"]
        updates = rt.asana.status_updates(backlog.gid)
    assert len(charts) == 1
    assert len([u for u in updates if (u.title or "").startswith("Forecast")]) >= 2
