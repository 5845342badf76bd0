"""Issue 23: the inverted index gives the former full scan's similarities bit for bit and the same estimates
byte for byte, on a generated index grown in uneven batches; its memory follows the index, and an add
leaves the derived state usable (no dense arrays, no recomputation over every row)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import tools.estimation.estimator as estimator_module
from evals.bench_estimation import FormerEstimator, zipf_tasks
from tests.estimation.spdata import synthetic_tasks
from tests.estimation.test_embeddings import FakeEncoder
from tools.estimation import CONFIGS, PastTask, StoryPointEstimator
from tools.estimation.embeddings import EmbeddingCache
from tools.estimation.termindex import TermIndex, slack


@pytest.fixture
def fake_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeEncoder:
    enc = FakeEncoder()
    cache = EmbeddingCache(enc, tmp_path)  # type: ignore[arg-type]
    monkeypatch.setattr(estimator_module, "shared_cache", lambda: cache)
    return enc


@pytest.fixture(params=["ranked", "full scan"])
def path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Both ways an estimate finds its best rows: the inverted index (any index) or, for a small index,
    the full scan (estimator.FULL_SCAN_ENTRIES)."""
    limit = 0 if request.param == "ranked" else 10**12
    monkeypatch.setattr(estimator_module, "FULL_SCAN_ENTRIES", limit)
    return str(request.param)


def _tasks() -> tuple[list[PastTask], list[tuple[str, str]]]:
    # two kinds of text: topic words (strong overlaps) and Zipf words (many rare terms), with exact
    # duplicates so that ties in similarity occur and must be broken the same way
    topics = synthetic_tasks(260, seed=11)
    zipf = zipf_tasks(260, seed=12, vocabulary=3000)
    history = [t for pair in zip(topics, zipf, strict=True) for t in pair]
    history += [
        PastTask(id=f"dup-{i}", title=t.title, description=t.description, points=t.points)
        for i, t in enumerate(history[:40:3])
    ]
    queries = [(t.title, t.description) for t in synthetic_tasks(25, seed=13, prefix="Q")]
    queries += [(t.title, t.description) for t in zipf_tasks(25, seed=14, vocabulary=3000)]
    queries += [(history[5].title, history[5].description), ("", ""), ("zzzz qqqq", "")]
    return history, queries


@pytest.mark.parametrize("name", ["light", "best", "embeddings"])
def test_same_similarities_and_estimates_as_the_former_scan(
    name: str, fake_model: FakeEncoder, path: str
) -> None:
    history, queries = _tasks()
    config = CONFIGS[name]
    former, current = FormerEstimator(config), StoryPointEstimator(config)
    sizes = [1, 2, 7, 1, 50, 3, 120, 1, 1, 200]
    start = 0
    for size in [*sizes, len(history)]:
        batch = history[start : start + size]
        if not batch:
            break
        former.add(batch)
        current.add(batch)
        start += size
        probe = queries[start % len(queries) : start % len(queries) + 4]
        # between adds: the first estimate after an add must already agree (no stale derived state)
        assert [e.model_dump_json() for e in current.estimate_many(probe)] == [
            e.model_dump_json() for e in former.estimate_many(probe)
        ]
    assert np.array_equal(current.similarities(queries), former.similarities(queries))
    assert [e.model_dump_json() for e in current.estimate_many(queries)] == [
        e.model_dump_json() for e in former.estimate_many(queries)
    ]
    for title, description in queries[:10]:
        assert current.similar(title, description, 10) == former.similar(title, description, 10)


def test_recency_ties_and_a_tiny_index_agree(fake_model: FakeEncoder, path: str) -> None:
    history, queries = _tasks()
    config = CONFIGS["best"].model_copy(update={"recency_decay": 0.7})
    for n in (1, 3, 6, 40):
        former, current = FormerEstimator(config), StoryPointEstimator(config)
        former.add(history[:n])
        current.add(history[:n])
        assert [e.model_dump_json() for e in current.estimate_many(queries)] == [
            e.model_dump_json() for e in former.estimate_many(queries)
        ]


def test_memory_follows_the_index_not_the_hash_space() -> None:
    small = StoryPointEstimator(CONFIGS["light"])
    small.add(synthetic_tasks(10, seed=1))
    # the former index held 2^20-long document-frequency and IDF arrays per block: 32 MB for ten tasks
    assert small.nbytes < 1_000_000
    big = StoryPointEstimator(CONFIGS["light"])
    big.add(synthetic_tasks(400, seed=1))
    assert small.nbytes < big.nbytes < 40 * small.nbytes


def test_an_add_keeps_the_norm_sums_and_touches_only_its_terms() -> None:
    history, queries = _tasks()
    index = TermIndex(2**20, min_df=2)
    estimator = StoryPointEstimator(CONFIGS["light"])
    word, _ = estimator._hasher.counts([f"{t.title} {t.description}" for t in history])
    for i in range(word.shape[0]):
        index.add(word[i])
    # at most log2(n) + 1 segments, and norms from the incremental sums match the exact ones
    assert len(index._segments) <= int(np.log2(index.n)) + 1
    exact = index.exact_norms()
    # (rounding drift of the incremental sums: ~1e-9 relative, far inside the SLACK of 1e-5)
    np.testing.assert_allclose(index.approx_norms(), exact, rtol=1e-7)


def test_save_and_load_keep_identical_estimates(tmp_path: Path, path: str) -> None:
    history, queries = _tasks()
    est = StoryPointEstimator(CONFIGS["light"])
    est.add(history)
    est.save(tmp_path / "idx")
    loaded = StoryPointEstimator.load(tmp_path / "idx")
    assert np.array_equal(loaded.similarities(queries), est.similarities(queries))
    assert loaded.estimate_many(queries) == est.estimate_many(queries)


def test_approximate_cosines_stay_within_their_bound() -> None:
    history, queries = _tasks()
    est = StoryPointEstimator(CONFIGS["light"])
    for start in range(0, len(history), 45):
        est.add(history[start : start + 45])
    word, char = est._hasher.transform([est._text(t, d) for t, d in queries])
    for index, rows in ((est._word, word), (est._char, char)):
        exact = index.cosine(rows)
        for i in range(rows.shape[0]):
            query = index.query(rows[i])
            error = np.abs(query.approx() - exact[i]).max()
            assert error <= slack(query.active_terms) / 2  # half the bound: it has room to spare


def test_a_count_beyond_uint16_is_kept_exactly(path: str) -> None:
    tasks = synthetic_tasks(30, seed=3)
    tasks.append(PastTask(id="long", title="flood", description="flood " * 70_000, points=5))
    former, current = FormerEstimator(CONFIGS["light"]), StoryPointEstimator(CONFIGS["light"])
    former.add(tasks)
    current.add(tasks)
    queries = [("flood flood", "flood"), (tasks[0].title, tasks[0].description)]
    assert np.array_equal(current.similarities(queries), former.similarities(queries))
    assert current.estimate_many(queries) == former.estimate_many(queries)


def test_the_guard_falls_back_to_the_full_scan(monkeypatch: pytest.MonkeyPatch) -> None:
    # with no margin for the approximation, the exact check trips and the query is answered by the full
    # scan: still the former's estimates
    monkeypatch.setattr(estimator_module, "FULL_SCAN_ENTRIES", 0)
    monkeypatch.setattr(estimator_module, "slack", lambda terms: 0.0)
    history, queries = _tasks()
    former, current = FormerEstimator(CONFIGS["best"]), StoryPointEstimator(CONFIGS["best"])
    former.add(history)
    current.add(history)
    assert current.estimate_many(queries) == former.estimate_many(queries)
