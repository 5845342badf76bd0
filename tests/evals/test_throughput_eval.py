"""`python -m evals.throughput` discovers sprint-report projects in any folder and prints the table."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest

from evals.throughput import discover, load_history, main, run
from tests.evals.synthetic import SPRINT_HEADER, _write, koralage_dir, tse_dir


def _day(d: date) -> str:
    return d.strftime("%d-%b-%y")  # Jira's sprint-report format, e.g. 06-Jan-14


def _steady_team(root: Path, name: str = "Steady", n: int = 14) -> Path:
    """A sprint-report project (sprints.csv only): 10 items a sprint, points all over the place."""
    rng = np.random.default_rng(2)
    rows: list[list[object]] = []
    first = date(2014, 1, 6)
    for i in range(n):
        start = first + timedelta(days=14 * i)
        pts = int(sum(rng.choice([1, 2, 3, 5, 8, 13], size=10)))
        rows.append(
            [
                1000 + i,
                f"S {i}",
                "CLOSED",
                _day(start),
                _day(start + timedelta(days=13)),
                _day(start + timedelta(days=13)),
                12,
                10,
                2,
                0,
                0,
                1,
                pts,
                pts,
                0,
                0,
                5,
                5,
                0,
                0,
                3,
                14,
            ]
        )
    # an open sprint at the end: its counts are not final, so it is left out
    rows.append([2000, "S next", "ACTIVE", "", "", "", 5, 1, 4, 0, 0, 0, 3, 3, 0, 0, 8, 8, 0, 0, 3, 14])
    folder = root / "elsewhere" / name
    _write(folder / "sprints.csv", SPRINT_HEADER, rows)
    return folder


def test_discovers_projects_and_picks_per_project(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    koralage_dir(tmp_path, sprints=6)
    tse_dir(tmp_path)
    steady = _steady_team(tmp_path)
    found, tse = discover(tmp_path)
    assert [f.name for f in found] == ["Tiny", "Steady"] or sorted(f.name for f in found) == [
        "Steady",
        "Tiny",
    ]
    assert [f.name for f in tse] == ["Tiny"]
    h = load_history(steady)
    assert len(h.points) == 14 and h.items == [10.0] * 14 and h.dropped == 1

    summary = run(tmp_path, [1, 3])
    rows = {(r["project"], r["horizon"]): r for r in summary["rows"]}
    assert rows[("Steady", 3)]["backtest"]["chosen"] == "throughput"
    assert rows[("Steady", 3)]["backtest"]["forecasts"] == 14 - 3 - 3 + 1
    tiny = rows[("Tiny", 3)]["backtest"]
    assert tiny["chosen"] == "points" and "too little history" in tiny["reason"]
    assert summary["skipped"][0]["project"] == "Tiny"

    main(["--data", str(tmp_path), "--horizons", "3"])
    out = capsys.readouterr().out
    assert "| project | sprints | forecasts | points MAE" in out
    assert "| Steady | 14 | 9 |" in out and "| throughput |" in out
    assert "skipped Tiny: TSE2017 format" in out
    assert not list(Path("evals").glob("**/sprints.csv"))  # nothing copied into the repo
