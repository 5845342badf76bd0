"""`eval sprints` fits its many small models on one OpenMP thread each (spinning threads made them tens
of times slower on a busy machine), whatever the machine's default."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sklearn.ensemble  # noqa: F401  # its OpenMP library loaded, so the limit below applies to it
from threadpoolctl import threadpool_info, threadpool_limits

import evals.sprints as sprints
from tools.forecast.delivery import DEFAULT_VARIANT

ITER = (
    "boardid,sprintid,name,vel_diff,planday,no_issue_starttime,vel_starttime,no_issue_added,vel_added,"
    "no_issue_removed,vel_removed,no_issuetodo,vel_todo,no_issueinprogress,vel_inprogress,no_issuedone,"
    "vel_done,no_admin,no_teammember"
)
ISSUE = (
    "boardid,sprintid,type,priority,no_comment,no_affectversion,no_fixversion,no_issuelink,no_blocking,"
    "no_blockedby,no_fixversion_change,no_priority_change,no_des_change,gunning_fog"
)


def write_tse(folder: Path, n: int = 30) -> None:
    """Synthetic TSE2017-format rows (not copied data)."""
    folder.mkdir(parents=True)
    its = [ITER] + [f"{i % 2},{i},S {i},{-(i % 5)},14,5,20,0,0,0,0,5,20,0,0,0,0,1,4" for i in range(n)]
    issues = [ISSUE] + [f"{i % 2},{i},Bug,Major,{i % 3},0,1,0,0,0,0,0,0,easy" for i in range(n)]
    for t in (0, 30):
        (folder / f"zeta_iteration_{t}.csv").write_text("\n".join(its) + "\n")
        (folder / f"zeta_issue_{t}.csv").write_text("\n".join(issues) + "\n")


def test_run_fits_on_one_thread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_tse(tmp_path / "Zeta")
    seen: list[int] = []
    real = sprints.evaluate_source

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen.extend(p["num_threads"] for p in threadpool_info() if p["user_api"] == "openmp")
        return real(*args, **kwargs)

    monkeypatch.setattr(sprints, "evaluate_source", spy)
    with threadpool_limits(limits=2):  # as on a 2-core machine, even where OMP_NUM_THREADS=1
        sprints.run(tmp_path, calibration=False, variants=(DEFAULT_VARIANT,))
    assert seen and set(seen) == {1}
