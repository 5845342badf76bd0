"""`sprintpilot demo --seed N` generates the team from N (it used to be ignored), prints the
approval's due time to the minute, and refuses a --data-dir that holds another seed's team."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sandbox.store import Store
from service.cli.main import app

runner = CliRunner()


pytestmark = pytest.mark.usefixtures("offline_env")


def demo(data_dir: Path, *args: str) -> tuple[str, dict[str, object]]:
    result = runner.invoke(app, ["demo", "--data-dir", str(data_dir), *args], env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    listed = runner.invoke(app, ["approvals", "list", "--all", "--json", "--data-dir", str(data_dir)])
    [record] = json.loads(listed.output)
    shown = runner.invoke(app, ["approvals", "show", record["id"], "--json", "--data-dir", str(data_dir)])
    proposal = json.loads(shown.output)["proposal"]["proposal"]
    team = sorted(u.name for u in Store.load(data_dir / "sandbox" / "state.json").users.values())
    plan = {"summary": proposal["summary_markdown"], "actions": proposal["actions"][:60]}
    return result.output, {"team": team, "plan": plan}


def test_the_seed_reaches_the_generator(tmp_path: Path) -> None:
    out_8, seeded_8 = demo(tmp_path / "a", "--seed", "8")
    _, again_8 = demo(tmp_path / "b", "--seed", "8")
    out_7, default = demo(tmp_path / "c")
    assert "seed 8" in out_8 and "seed 7" in out_7
    assert seeded_8 == again_8  # same seed: same team, same plan
    assert seeded_8["team"] != default["team"]
    assert seeded_8["plan"] != default["plan"]

    due = re.search(r"due (\S+ \S+)", " ".join(out_8.split()))
    assert due is not None and re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", due.group(1)), due
    assert not re.search(r"\d\d:\d\d:\d\d\.\d+", out_8)  # no microseconds anywhere

    refused = runner.invoke(app, ["demo", "--data-dir", str(tmp_path / "a"), "--seed", "9"])
    assert refused.exit_code == 1
    lines = [line for line in refused.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "already holds a demo workspace generated from seed 8" in lines[0]
