"""The hurdle eval: both candidate sets chosen on the same selection data, the band scored on test."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from evals.sprints_hurdle import NAIVE_BAND, SHIPPED, WITH_HURDLE, format_table, run
from tests.evals.test_sprints_discovery import write_tse
from tools.forecast import delivery_hurdle
from tools.forecast.delivery import DEFAULT_VARIANT, HURDLE_VARIANTS, VARIANTS


def test_run_selects_from_both_sets_and_scores_the_band(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Small project, one shipped candidate and the hurdle pair, three levels of G and 20 boosting
    # rounds (each level is a boosted model per fit): the test checks the wiring, not the accuracy.
    monkeypatch.setattr(delivery_hurdle, "QUANTILES", (0.1, 0.5, 0.9))
    few_rounds = {**delivery_hurdle._hgb_kwargs(0), "max_iter": 20}
    monkeypatch.setattr(delivery_hurdle, "_hgb_kwargs", lambda seed: {**few_rounds, "random_state": seed})
    write_tse(tmp_path / "tse2017" / "Alpha", "alpha", n=60)
    variants = (VARIANTS[0], HURDLE_VARIANTS[0], HURDLE_VARIANTS[1])
    result = run(tmp_path, None, [0], variants=variants)
    rows = {r["protocol"]: r for r in result["rows"]}
    assert set(rows) == {"cv", "forward"}
    for protocol, r in rows.items():
        names = {v.name for v in variants} | {SHIPPED, WITH_HURDLE}
        assert set(r["test"]) == names
        assert all(v is not None and np.isfinite(v) for v in r["test"].values())
        assert sum(r["picked"][SHIPPED].values()) == (10 if protocol == "cv" else 9)
        hurdles = {HURDLE_VARIANTS[0].name, HURDLE_VARIANTS[1].name}
        assert not hurdles & set(r["picked"][SHIPPED])  # never candidates of "shipped"
        assert sum(r["picked"][WITH_HURDLE].values()) == sum(r["picked"][SHIPPED].values())
        assert set(r["band"]) == {HURDLE_VARIANTS[1].name, NAIVE_BAND}
        assert all(0.0 <= b["inside"] <= 1.0 for b in r["band"].values())
    # cv: 54 training sprints give no two inner folds of 30 (MIN_INNER_TRAIN): the default, and
    # nothing to report as selection data; forward: the earlier folds' errors
    assert rows["cv"]["selection"] == {} and rows["cv"]["picked"][WITH_HURDLE] == {DEFAULT_VARIANT.name: 10}
    assert set(rows["forward"]["selection"]) == {v.name for v in variants}  # one shipped: no median
    assert rows["forward"]["picked"][SHIPPED].get(DEFAULT_VARIANT.name, 0) >= 1  # first fold: default
    text = format_table(result)
    assert text.startswith("| candidate | cv 0% | forward 0% |")
    assert f"| {WITH_HURDLE} |" in text and "band training P10-P90: inside" in text
