"""Issue 23: the one-pass posting kernel and the dense document frequencies of a large index.

The approximate dot products must equal a plain accumulation of the query's postings (within float32
rounding) in every segment, including query terms a segment lacks; the dense frequencies must agree with
the sorted arrays they shadow, through later adds."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

import tools.estimation.termindex as termindex
from tools.estimation.termindex import TermIndex, slack

N_FEATURES = 1 << 12


def _counts(rows: int, seed: int) -> sp.csr_matrix:
    """Raw counts with a Zipf-like spread over a small hash space: some features in every row, most rare."""
    rng = np.random.default_rng(seed)
    out = sp.lil_matrix((rows, N_FEATURES), dtype=np.float64)
    for r in range(rows):
        size = int(rng.integers(1, 60))
        feats = np.minimum(rng.zipf(1.3, size=size) - 1, N_FEATURES - 1)
        for f in feats:
            out[r, f] += 1
    counts = sp.csr_matrix(out)
    counts.sum_duplicates()
    counts.sort_indices()
    return counts


def _grown(batches: list[int], seed: int) -> TermIndex:
    index = TermIndex(N_FEATURES, min_df=2)
    for i, size in enumerate(batches):
        index.add(_counts(size, seed + i))
    return index


def _reference_dots(index: TermIndex, features: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Every row's dot product with the query, from the stored rows (float64, no postings)."""
    tf = index.tf_rows()
    query = np.zeros(N_FEATURES)
    query[features] = weights
    out: np.ndarray = tf @ query
    return out


def test_one_pass_dots_equal_the_accumulated_postings_in_every_segment() -> None:
    index = _grown([120, 40, 17, 3, 1], seed=5)
    assert len(index._segments) == 5  # several segments, so offsets and empty lookups are exercised
    rng = np.random.default_rng(7)
    for _ in range(20):
        features = np.unique(rng.integers(0, N_FEATURES, size=int(rng.integers(1, 300)))).astype(np.int32)
        weights = rng.uniform(0.1, 30.0, size=len(features))
        dots = np.zeros(index.n, np.float32)
        for seg in index._segments:
            seg.dots_into(features, weights, dots[seg.start : seg.stop])
        expected = _reference_dots(index, features, weights)
        np.testing.assert_array_equal(dots > 0, expected > 0)
        terms = len(features)
        np.testing.assert_allclose(dots, expected, rtol=2 * (terms + 2) * 2.0**-24, atol=0)


def test_a_query_with_no_indexed_term_adds_nothing() -> None:
    index = _grown([30], seed=9)
    present = set(np.flatnonzero(index.df_of(np.arange(N_FEATURES))).tolist())
    absent = np.array([f for f in range(N_FEATURES) if f not in present][:5], dtype=np.int32)
    dots = np.full(index.n, 0.5, np.float32)
    index._segments[0].dots_into(absent, np.ones(len(absent)), dots)
    assert np.all(dots == 0.5)


def test_approximate_cosines_stay_within_their_bound_on_a_grown_index() -> None:
    index = _grown([25, 1, 60, 4, 4, 90], seed=21)
    for seed in range(10):
        row = _counts(1, 100 + seed)
        tf = sp.csr_matrix((termindex.tf_of(row.data), row.indices, row.indptr), shape=row.shape)
        query = index.query(tf)
        exact = index.cosine(tf)[0]
        approx = query.approx()
        np.testing.assert_array_equal(approx > 0, exact > 0)
        assert np.abs(approx - exact).max() <= slack(query.active_terms) / 2
        rows = np.arange(index.n)
        assert np.array_equal(query.exact(rows), exact)  # bit for bit


@pytest.mark.parametrize("share", [1, 8, 10**9])
def test_dense_frequencies_agree_with_the_sorted_ones(share: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # share 1: dense only once every feature occurs (never here); 10**9: dense from the first add
    monkeypatch.setattr(termindex, "_DENSE_DF_SHARE", share)
    index = _grown([50, 7, 1, 80], seed=3)
    if share == 10**9:
        assert index._dense_df is not None
    features = np.arange(N_FEATURES)
    counted = np.bincount(index.counts().indices, minlength=N_FEATURES)
    np.testing.assert_array_equal(index.df_of(features), counted)
    sorted_df = np.zeros(N_FEATURES, np.int64)
    sorted_df[index._feats] = index._df
    np.testing.assert_array_equal(sorted_df, counted)


def test_dense_frequencies_change_no_similarity(monkeypatch: pytest.MonkeyPatch) -> None:
    queries = sp.vstack([_counts(1, 300 + s) for s in range(8)], format="csr")
    tf = sp.csr_matrix((termindex.tf_of(queries.data), queries.indices, queries.indptr), shape=queries.shape)
    results = []
    for share in (1, 10**9):
        monkeypatch.setattr(termindex, "_DENSE_DF_SHARE", share)
        index = _grown([40, 2, 70], seed=13)
        assert (index._dense_df is not None) == (share == 10**9)
        results.append((index.cosine(tf), index.exact_norms(), index.approx_norms()))
    for sparse_df, dense_df in zip(*results, strict=True):
        assert np.array_equal(sparse_df, dense_df)
