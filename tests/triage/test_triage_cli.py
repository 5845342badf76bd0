"""`sprintpilot triage` on the embedded default (SQLite + in-process sandbox): auto actions, no interrupt."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from service.cli.triage import triage


@pytest.fixture(autouse=True)
def _offline_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("SPRINTPILOT_ASANA_BASE_URL", "SPRINTPILOT_DATABASE_URL", "SPRINTPILOT_MODEL"):
        monkeypatch.delenv(var, raising=False)


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command("triage")(triage)

    @app.callback()
    def _root() -> None:
        pass

    return app


def test_project_unestimated_json(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        _app(),
        ["triage", "--project", "Product Backlog", "--unestimated", "--json", "--data-dir", str(tmp_path)],
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["status"] == "done" and out["approval_request"] is None
    assert out["report"]["status"] == "applied"
    tasks = out["evidence"]["tasks"]
    assert tasks and all(t["story_points"] is None for t in tasks)
    assert out["asana_calls"]["by_method"].get("POST /tasks/{gid}/stories") == len(tasks)


def test_needs_a_target(tmp_path: Path) -> None:
    result = CliRunner().invoke(_app(), ["triage", "--data-dir", str(tmp_path)])
    assert result.exit_code == 1 and "give --task GID or --project" in result.output


def test_the_summary_says_when_estimates_come_from_the_fallback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Before: only `--json`'s method field said so, and it blamed a missing install.
    monkeypatch.setenv("SPRINTPILOT_EMBEDDING_MODEL", str(tmp_path / "nowhere"))
    result = CliRunner().invoke(
        _app(),
        [
            "triage",
            "--project",
            "Product Backlog",
            "--unestimated",
            "--limit",
            "1",
            "--data-dir",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 0, result.output
    variable = f"SPRINTPILOT_EMBEDDING_MODEL={tmp_path / 'nowhere'}"
    shown = "".join(result.output.split())  # wrapped at the console's width, long paths folded
    assert "".join(f"Story points: light fallback: {variable} has no usable model".split()) in shown
