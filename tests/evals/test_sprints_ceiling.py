"""The delivery ceiling eval: the oracle sees the sprint's later state, the known-at-T model does not."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from evals.sprints_ceiling import format_table, run
from tests.evals.test_sprints_discovery import ISSUE_COLS, ITER_COLS, write_tse
from tools.errors import UserError


def write_late_scope(folder: Path, stem: str, n: int = 60) -> None:
    """Synthetic rows (not copied data) where the outcome is scope added after 30% of the sprint: at
    0%/30% nothing shows it (vel_diff = the later addition); at 50%/80% it is in vel_added."""
    rng = np.random.default_rng(7)
    folder.mkdir(parents=True)
    early, late, issues = [ITER_COLS], [ITER_COLS], [ISSUE_COLS]
    for i in range(n):
        start, added = int(rng.integers(10, 30)), int(rng.integers(0, 3)) * 10
        early.append(f"{i % 2},{i},S {i},{added},14,5,{start},0,0,0,0,5,{start},0,0,0,0,1,4")
        late.append(f"{i % 2},{i},S {i},0,14,5,{start},2,{added},0,0,5,{start},0,0,0,0,1,4")
        issues.append(f"{i % 2},{i},Bug,Major,1,0,1,0,0,0,0,0,0,easy")
    for t, rows in ((0, early), (30, early), (50, late), (80, late)):
        (folder / f"{stem}_iteration_{t}.csv").write_text("\n".join(rows) + "\n")
    for t in (0, 30):
        (folder / f"{stem}_issue_{t}.csv").write_text("\n".join(issues) + "\n")


def test_oracle_sees_the_future_and_known_model_does_not(tmp_path: Path) -> None:
    write_late_scope(tmp_path / "tse2017" / "Late", "late")
    write_tse(tmp_path / "tse2017" / "Early", "early")  # only 0%/30% files: skipped, and said so
    summary = run(tmp_path)
    assert summary["skipped"] == ["Early"]
    rows = {(r["time"], r["protocol"]): r for r in summary["rows"]}
    assert set(rows) == {(t, p) for t in (0, 30) for p in ("cv", "forward")}
    for (_, protocol), r in rows.items():
        assert r["project"] == "Late"
        # nothing known at T says how much will be added; the later vel_added is the target
        assert r["known"] > 1.0, r
        assert r["oracle"] < r["known"] / 2, r
        if protocol == "cv":  # forward chaining's first folds have too few sprints to fit
            assert r["oracle"] < 0.55, r
    assert summary["means"]["cv_0"]["goal"] == 0.55
    text = format_table(summary)
    assert "Late       0%  cv" in text and "skipped (no 50%/80% files): Early" in text


def test_later_files_must_list_the_same_sprints(tmp_path: Path) -> None:
    folder = tmp_path / "tse2017" / "Late"
    write_late_scope(folder, "late")
    path = folder / "late_iteration_80.csv"
    path.write_text("\n".join(path.read_text().splitlines()[:-1]) + "\n")  # one sprint missing
    with pytest.raises(UserError, match="80% file lists other sprints"):
        run(tmp_path)
