"""Issue 22: the history check replays the estimator on the newest part of its own history and falls back
to the history median where the neighbours lost to it there; elsewhere it changes nothing."""

from __future__ import annotations

import numpy as np

from tests.estimation.spdata import synthetic_tasks
from tools.estimation import BEST, CONFIGS, EstimatorConfig, PastTask, StoryPointEstimator
from tools.estimation.aggregate import snap
from tools.estimation.historycheck import FoldRule, check_history, fold_mae

CHECKED = CONFIGS["best-checked"]


def _misleading(n: int) -> list[PastTask]:
    """Texts that name a topic whose points flip between old and new history: the neighbours of a new task
    are old tasks with the other size, so they mislead while the median is right."""
    out = []
    for i in range(n):
        topic = ("alpha", "beta")[i % 2]
        early = i < n // 2
        points = (8.0 if topic == "alpha" else 1.0) if early else 2.0
        words = f"{topic} {topic} widget {i % 7}"
        out.append(PastTask(id=f"M{i}", title=words, description=f"{topic} module {i % 5}", points=points))
    return out


def _built(tasks: list[PastTask], config: EstimatorConfig = CHECKED) -> StoryPointEstimator:
    est = StoryPointEstimator(config)
    est.add(tasks)
    return est


def test_a_text_signal_keeps_the_neighbours() -> None:
    history = synthetic_tasks(300, seed=21)
    queries = [(t.title, t.description) for t in synthetic_tasks(40, seed=22, prefix="Q")]
    checked, plain = _built(history), _built(history, BEST)
    got = checked.estimate_many(queries)
    assert checked.checked is not None and checked.checked.folds == 4
    assert checked.checked.mean_ratio is not None and checked.checked.mean_ratio < 1.0
    assert checked.shrinkage == BEST.shrinkage
    assert [e.points for e in got] == [e.points for e in plain.estimate_many(queries)]


def test_misleading_neighbours_fall_back_to_the_median() -> None:
    history = _misleading(200)
    # without the near-duplicate rule, which would take a same-titled old task's points as they are
    no_dup: dict[str, object] = {"duplicate_similarity": None}
    checked = _built(history, CHECKED.model_copy(update=no_dup))
    plain = _built(history, BEST.model_copy(update=no_dup))
    query = [("alpha alpha widget 3", "alpha module 1")]
    estimate = checked.estimate_many(query)[0]
    assert checked.checked is not None and checked.checked.fell_back
    assert checked.shrinkage == 0.0
    median = snap(float(np.median([t.points for t in history])), checked.scale())
    assert estimate.points == median
    assert "history check" in estimate.method
    assert estimate.raw == float(np.median([t.points for t in history]))
    assert plain.estimate_many(query)[0].raw > estimate.raw  # the plain configuration follows the neighbours


def test_the_check_is_redone_only_after_the_index_moved_by_a_tenth() -> None:
    history = synthetic_tasks(300, seed=23)
    est = _built(history[:200])
    est.estimate("crash null exception")
    first = est.checked
    est.add(history[200:210])  # 5%: the last check still holds
    est.estimate("crash null exception")
    assert est.checked is first
    est.add(history[210:230])  # 15% in all: checked again
    est.estimate("crash null exception")
    assert est.checked is not first and est.checked is not None and est.checked.n_indexed == 230
    est.remove([history[0].id])
    assert est.checked is None  # what it checked is gone


def test_a_short_history_has_no_fold_and_keeps_the_setting() -> None:
    est = _built(synthetic_tasks(60, seed=24))
    est.estimate("typo label")
    assert est.checked is not None and est.checked.folds == 0 and est.checked.mean_ratio is None
    assert est.shrinkage == BEST.shrinkage


def test_fold_mae_scores_the_estimator_rule_against_the_median() -> None:
    points = np.array([1.0, 1.0, 2.0, 8.0, 8.0])
    sims = np.array([[0.9, 0.8, 0.1, 0.0, 0.0], [0.0, 0.0, 0.1, 0.9, 0.8]])
    rule = FoldRule(shrinkage=1.0, duplicate_similarity=None, recency_decay=None)
    knn, median = fold_mae(sims, points, np.array([1.0, 8.0]), 2, rule)
    assert knn == 0.0  # each query's two neighbours give its points exactly
    assert median == (1.0 + 6.0) / 2  # the median of the index is 2


def test_check_history_uses_only_tasks_before_each_cut() -> None:
    points = np.arange(100, dtype=np.float64)
    seen: list[slice] = []

    def similarities(rows: slice) -> np.ndarray:
        seen.append(rows)
        return np.zeros((rows.stop - rows.start, len(points)))

    rule = FoldRule(shrinkage=0.5, duplicate_similarity=0.6, recency_decay=None)
    result = check_history(points, similarities, lambda n: 5, rule)
    assert [(s.start, s.stop) for s in seen] == [(60, 70), (70, 80), (80, 90), (90, 100)]
    assert result.folds == 4
