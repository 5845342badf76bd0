"""`risk` (alias `deps`) and `eval delays` as the sprintpilot CLI mounts them."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

import pytest
from threadpoolctl import threadpool_limits
from typer.testing import CliRunner

from service.cli.main import app

runner = CliRunner()

HEADER = [
    "issuekey",
    "delaydays",
    "openeddate",
    "type",
    "discussion",
    "repetition",
    "perofdelay",
    "workload",
    "priority",
    "no_comment",
    "no_priority_change",
    "no_fixversion",
    "no_fixversion_change",
    "no_issuelink",
    "no_blocking",
    "no_blockedby",
    "no_affectversion",
    "reporterrep",
    "no_des_change",
    "ProgressTime",
    "RemainingDay",
    "topic_10",
    "topic_100",
    "topic_200",
    "topic_300",
    "topic_400",
]


@pytest.fixture(autouse=True)
def _offline_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("SPRINTPILOT_ASANA_BASE_URL", "SPRINTPILOT_DATABASE_URL", "SPRINTPILOT_MODEL"):
        monkeypatch.delenv(var, raising=False)


def test_deps_scan_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import service.runtime
    from agents.dependencies import dependencies_specialist
    from graphs.registry import SpecialistRegistry

    # Until the lead registers the agent in the default registry.
    monkeypatch.setattr(
        service.runtime, "default_registry", lambda: SpecialistRegistry([dependencies_specialist()])
    )
    result = runner.invoke(app, ["deps", "--json", "--data-dir", str(tmp_path)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["status"] in {"awaiting_approval", "done"}


def test_deps_rejects_days_without_task(tmp_path: Path) -> None:
    result = runner.invoke(app, ["risk", "--days", "3", "--data-dir", str(tmp_path)])
    assert result.exit_code != 0 and "--task" in result.output


def test_deps_is_an_alias_of_risk(tmp_path: Path) -> None:
    result = runner.invoke(app, ["deps", "--days", "3", "--data-dir", str(tmp_path)])
    assert result.exit_code != 0 and "--task" in result.output


def _write_project(folder: Path, name: str, n: int, seed: int) -> None:
    """Synthetic issues where a short runway and a late-prone assignee cause delay."""
    rnd = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / f"{name}_due.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        for i in range(n):
            remaining = rnd.randint(0, 60)
            late_share = rnd.random()
            delayed = (remaining < 15 and late_share > 0.4) or rnd.random() < 0.05
            w.writerow(
                [
                    f"X-{i}",
                    rnd.randint(1, 30) if delayed else 0,
                    f"2015-01-{1 + i % 28:02d} 00:00:00",
                    rnd.choice(["Bug", "Task"]),
                    rnd.randint(0, 9),
                    0,
                    f"{late_share:.3f}",
                    rnd.randint(1, 9),
                    rnd.choice(["Major", "Minor", "NULL"]),
                    rnd.randint(0, 5),
                    0,
                    1,
                    0,
                    0,
                    0,
                    0,
                    0,
                    "0.5",
                    0,
                    rnd.randint(0, 9),
                    remaining,
                    rnd.randint(0, 9),
                    1,
                    2,
                    3,
                    4,
                ]
            )


def test_eval_delays_on_native_format(tmp_path: Path) -> None:
    _write_project(tmp_path / "delays" / "emse2017", "jira", 400, seed=1)
    # One OpenMP thread: on a busy shared machine the trees' thread pool otherwise oversubscribes.
    with threadpool_limits(limits=1):
        args = ["eval", "delays", "--data", str(tmp_path), "--json"]
        result = runner.invoke(app, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    (proj,) = out["projects"]
    assert proj["project"] == "jira" and proj["stratified"]["test"] == 80
    assert proj["stratified"]["auc"] > 0.65  # the planted signal is learnable (chance = 0.5)
    assert {"remaining_days", "assignee_late_share"} & set(list(proj["top_features"])[:3])
    assert out["anchor_due_assignment"]["auc"] == 0.78


def test_eval_delays_missing_data_is_a_clear_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["eval", "delays", "--data", str(tmp_path / "nope")])
    assert result.exit_code != 0 and "dataset folder not found" in result.output
