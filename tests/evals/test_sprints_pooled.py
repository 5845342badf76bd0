"""Pooling across projects and shrinkage toward the best naive baseline (evals/sprints_pooled.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from evals.sprints_pooled import CANDIDATES, format_table, pick_shrinkage, run
from tests.evals.test_sprints_discovery import write_tse


def test_shrinkage_is_chosen_on_validation_data() -> None:
    y = np.array([1.0, 2.0, 3.0])
    exact_naive = {"median": y.copy(), "zero": np.zeros(3)}
    assert pick_shrinkage([(y + 5, exact_naive, y)]) == ("median", 0.0)  # the model is worse: weight 0
    assert pick_shrinkage([(y.copy(), {"zero": np.zeros(3)}, y)]) == ("zero", 1.0)  # the model is exact
    half = {"zero": y - 2}
    assert pick_shrinkage([(y + 2, half, y)]) == ("zero", 0.5)  # errors +2 and -2 cancel at w = 0.5
    assert pick_shrinkage([]) == ("median", 1.0)  # nothing to choose on: the model alone


def test_run_pools_the_other_projects(tmp_path: Path) -> None:
    # Small projects: the test checks the wiring, not the accuracy (every fit is a model per fold).
    write_tse(tmp_path / "tse2017" / "Alpha", "alpha", n=24)
    write_tse(tmp_path / "tse2017" / "Beta", "beta", n=26)
    result = run(tmp_path, None, [0])
    assert set(result) == {"cv_0", "forward_0"}
    for key in result:
        assert set(result[key]["projects"]) == {"Alpha", "Beta"}
        for ratios in result[key]["projects"].values():
            assert set(ratios) == set(CANDIDATES)
            assert all(np.isfinite(v) and v > 0 for v in ratios.values())
    text = format_table(result)
    assert text.startswith("| variant | cv 0% | forward 0% |")
    assert "| pooled across projects |" in text
