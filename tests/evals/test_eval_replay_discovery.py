"""`eval replay` replays any Koralage project found under --data, not only Spring XD."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from evals.replay.run import koralage_projects, load_recordings, run_replays
from service.cli.eval_replay import replay
from tests.evals.synthetic import koralage_dir
from tools.errors import UserError

QUIET = {"triage": False, "standup": False, "risk": False, "retro": False, "charts": False, "history": 1}


def two_projects(root: Path) -> Path:
    """Synthetic Koralage projects named 'Orbit' and 'Nova' (no Spring XD anywhere)."""
    for name in ("Orbit", "Nova"):
        tiny = koralage_dir(root / name.lower(), sprints=2)
        target = root / "data" / "koralage2020" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        tiny.rename(target)
    return root / "data"


def test_every_project_is_found_and_replayed(tmp_path: Path) -> None:
    data = two_projects(tmp_path)
    assert [f.name for f in koralage_projects(data)] == ["Nova", "Orbit"]
    runs = run_replays(data, out_dir=tmp_path / "out", **QUIET)  # type: ignore[arg-type]
    assert [name for name, _, _ in runs] == ["Nova", "Orbit"]
    for name, report, _ in runs:
        assert report["meta"]["dataset"] == f"koralage2020/{name}"
        assert (tmp_path / "out" / name / "report.json").is_file()


def test_one_project_by_name_and_clear_errors(tmp_path: Path) -> None:
    data = two_projects(tmp_path)
    sprints, label = load_recordings(data, "orbit")
    assert label == "koralage2020/Orbit" and len(sprints) == 2
    with pytest.raises(UserError, match="several Koralage projects .*Nova, Orbit.*--project"):
        load_recordings(data)
    with pytest.raises(UserError, match="no Koralage project 'SpringXD' here .found: Nova, Orbit"):
        koralage_projects(data, "SpringXD")
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="no Koralage project"):
        koralage_projects(tmp_path / "empty")


def test_cli_says_which_projects_it_found(tmp_path: Path) -> None:
    data = two_projects(tmp_path)
    app = typer.Typer()
    app.command("replay")(replay)

    @app.callback()
    def _root() -> None:
        pass

    args = ["replay", "--data", str(data), "--out", str(tmp_path / "o"), "--history", "1",
            "--no-triage", "--no-standup", "--no-risk", "--no-retro"]  # fmt: skip
    out = CliRunner().invoke(app, [*args, "--json"])
    assert out.exit_code == 0, out.output
    assert "Koralage projects to replay" in out.stderr and "Nova, Orbit" in out.stderr
    reports = json.loads(out.stdout)
    assert [r["meta"]["dataset"] for r in reports] == ["koralage2020/Nova", "koralage2020/Orbit"]
    empty = tmp_path / "empty"
    empty.mkdir()
    bad = CliRunner().invoke(app, ["replay", "--data", str(empty)])
    assert bad.exit_code != 0 and "no Koralage project" in bad.output and "Traceback" not in bad.output
