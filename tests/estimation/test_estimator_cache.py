"""Issue 23: the triage estimator cache adds new tasks to an index without rebuilding it and is bounded
by bytes (least recently used out), since an index now holds memory in proportion to its tasks."""

from __future__ import annotations

import pytest

import agents.triage.index as index_module
from agents.triage.index import EstimatorCache
from tests.estimation.spdata import synthetic_tasks
from tools.asana.models import Task
from tools.estimation import CONFIGS, StoryPointEstimator


@pytest.fixture(autouse=True)
def _light(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(index_module, "StoryPointEstimator", lambda: StoryPointEstimator(CONFIGS["light"]))


def _history(n: int, seed: int) -> list[tuple[Task, float]]:
    return [
        (Task(gid=f"{seed}-{t.id}", name=t.title, notes=t.description), t.points)
        for t in synthetic_tasks(n, seed=seed)
    ]


def test_new_tasks_are_added_not_rebuilt() -> None:
    cache = EstimatorCache()
    history = _history(60, seed=1)
    first = cache.index_for(("u", "p"), history[:50])
    again = cache.index_for(("u", "p"), history)
    assert again is first and len(again) == 60
    assert cache.rebuilds == 1 and cache.incremental_adds == 2


def test_bounded_by_bytes_least_recently_used_first(monkeypatch: pytest.MonkeyPatch) -> None:
    cache = EstimatorCache()
    a = cache.index_for(("u", "a"), _history(40, seed=1))
    one = a.nbytes
    monkeypatch.setattr(index_module, "MAX_CACHED_BYTES", int(2.5 * one))
    cache.index_for(("u", "b"), _history(40, seed=2))
    assert cache.index_for(("u", "a"), _history(40, seed=1)) is a  # used again: now the most recent
    cache.index_for(("u", "c"), _history(40, seed=3))
    assert set(cache._entries) == {("u", "a"), ("u", "c")}  # b, the least recently used, went
    assert cache.nbytes <= 2.5 * one
    # the index in use is kept even when it alone is over the budget
    monkeypatch.setattr(index_module, "MAX_CACHED_BYTES", 1)
    cache.index_for(("u", "d"), _history(40, seed=4))
    assert list(cache._entries) == [("u", "d")]


def test_an_asana_that_goes_away_takes_its_indexes_with_it() -> None:
    """`forget_asana(base_url)` (a closed runtime's sandbox, a finished replay sprint) drops that
    Asana's indexes, so `eval replay` memory does not grow by one index per sprint."""
    from agents.triage.index import ESTIMATOR_CACHE
    from tools.asana.process_cache import forget_asana

    ESTIMATOR_CACHE.index_for(("http://sprint-1", "p"), _history(20, seed=1))
    ESTIMATOR_CACHE.index_for(("http://sprint-2", "p"), _history(20, seed=2))
    forget_asana("http://sprint-1")
    held = {k[0] for k in ESTIMATOR_CACHE._entries}
    assert "http://sprint-1" not in held and "http://sprint-2" in held
    forget_asana("http://sprint-2")


def test_a_changed_product_configuration_rebuilds_the_index(monkeypatch: pytest.MonkeyPatch) -> None:
    # Before: a long-lived worker kept estimating with the configuration it first built with,
    # after the weights were installed or removed or SPRINTPILOT_EMBEDDING_MODEL changed.
    from tools.estimation.default import ConfigChoice

    choices = iter(
        [
            ConfigChoice(config=CONFIGS["embeddings"]),
            ConfigChoice(config=CONFIGS["embeddings"]),
            ConfigChoice(config=CONFIGS["light"], fallback="light fallback: not installed"),
        ]
    )
    monkeypatch.setattr(index_module, "product_config", lambda: next(choices))
    cache = EstimatorCache()
    history = _history(40, seed=1)
    first = cache.index_for(("u", "p"), history)
    assert cache.index_for(("u", "p"), history) is first  # same configuration: kept
    assert cache.index_for(("u", "p"), history) is not first and cache.rebuilds == 2
