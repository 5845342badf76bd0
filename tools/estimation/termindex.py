"""An inverted index over one family of hashed n-gram features, with exact TF-IDF cosines.

The former index multiplied the query by every indexed row (cost: all n-grams of all tasks) and kept
dense arrays over the whole hash space (document frequencies and squared IDF: 32 MB per estimator, even
for ten tasks); every add threw the row norms away, so the next estimate recomputed them over the whole
index. Here, with memory proportional to the n-grams actually indexed:

- the rows are kept as raw counts (CSR, 6 bytes an entry): the exact per-row arithmetic of the former
  code is replayed from them for the few rows an estimate reports;
- postings (which rows hold a feature, float32 tf: 8 bytes an entry) live in log-structured segments,
  so a query reads only the postings of its own terms (once each, added straight into a dense float32
  row: :meth:`_Segment.dots_into`) and an add costs its own terms' postings plus amortised merges;
- each row's squared norm under the current IDF is kept as three sums, updated per add (nothing is
  invalidated): with ``c = log(1 + n) + 1`` and ``l = log(1 + df)``, ``idf = c - l`` and
  ``norm² = c²·S0 - 2c·S1 + S2`` over the row's active terms.

Those norms and the float32 postings give approximate cosines with a known error bound (:func:`slack`);
they only choose the rows that can reach the top, whose cosines are then recomputed exactly as the former
code did, so every similarity that is returned is bit-identical to the former full scan.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy.sparse import _sparsetools  # the CSC matrix-vector kernel (see _Segment.dots_into)

from tools.estimation.features import idf_weights, sublinear

F64 = NDArray[np.float64]
I32 = NDArray[np.int32]
I64 = NDArray[np.int64]

# Relative rounding of the approximate norms (incremental sums: ~1e-9 measured) plus a margin.
NORM_ERROR = 1e-7
_SMALL_BUILD = 1 << 18  # a segment with fewer entries is sorted directly, a larger one via scipy (linear)
_CHUNK = 1 << 18  # postings gathered per step: bounds the temporary memory of an add
_GROWTH = 1.25  # spare capacity of the growing arrays: held memory at most 25% over the index
# Once this share of the hash space occurs, document frequencies are also kept dense (int32, 4 MB for
# 2^20 features, less than the sorted arrays by then hold): an estimate looks up the frequency of every
# n-gram of the rows it recomputes exactly, and a binary search per entry cost 2-4 ms of it at 50k tasks.
_DENSE_DF_SHARE = 8


def slack(active_terms: int) -> float:
    """A bound on |approximate - exact| cosine for a query with this many active terms: float32 sums
    of ``m`` positive products are within (m + 2)·2^-24 relative (each product and addition rounds
    once), doubled for safety, plus the norms' error; cosines are at most 1."""
    return 2.0 * (active_terms + 2) * 2.0**-24 + NORM_ERROR


@functools.cache
def _tf_table() -> F64:
    """Sublinear tf of every count a uint16 holds: a lookup is cheaper than a log per entry, and each
    value is the one the former code computed (np.log is elementwise, independent of the array)."""
    return sublinear(np.arange(1, 1 << 16, dtype=np.float64))


def tf_of(counts: NDArray[Any]) -> F64:
    if counts.dtype == np.uint16:
        return _tf_table()[counts.astype(np.intp) - 1]
    return sublinear(counts)


class _Grow:
    """A 1-D array with spare capacity: appending costs what is appended, not a copy of everything."""

    def __init__(self, dtype: Any, initial: Any = ()) -> None:
        self._buf: NDArray[Any] = np.array(initial, dtype=dtype)
        self.size = len(self._buf)

    @property
    def view(self) -> NDArray[Any]:
        return self._buf[: self.size]

    def extend(self, values: NDArray[Any]) -> None:
        need = self.size + len(values)
        dtype = self._buf.dtype
        if dtype == np.uint16 and len(values) and int(values.max()) > np.iinfo(np.uint16).max:
            dtype = np.dtype(np.int64)  # a count beyond 65,535 (a text of that many repeats): widened
        if need > len(self._buf) or dtype != self._buf.dtype:
            grown = np.zeros(max(need, int(_GROWTH * len(self._buf)), 16), dtype=dtype)
            grown[: self.size] = self._buf[: self.size]
            self._buf = grown
        self._buf[self.size : need] = values
        self.size = need

    @property
    def nbytes(self) -> int:
        return int(self._buf.nbytes)


@dataclass
class _Segment:
    """Postings of the rows start..stop-1: row ``t`` of ``post`` holds feature ``feats[t]``, its columns
    are the rows (from ``start``) that contain it, its values their tf (float32)."""

    start: int
    stop: int
    feats: I32
    post: sp.csr_matrix

    @property
    def nbytes(self) -> int:
        p = self.post
        return int(self.feats.nbytes + p.data.nbytes + p.indices.nbytes + p.indptr.nbytes)

    def lookup(self, query: I32) -> tuple[I64, I64]:
        """(which query features this segment holds, their rows in ``post``)."""
        if not len(self.feats) or not len(query):
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        pos = np.minimum(np.searchsorted(self.feats, query), len(self.feats) - 1)
        hit = np.flatnonzero(self.feats[pos] == query)
        return hit, pos[hit]

    def postings(self, query: I32) -> Iterator[tuple[I64, I64, I64]]:
        """The postings of the query's features, feature by feature in the query's order, in chunks of
        about _CHUNK entries: (positions of the entries, which query features, how many entries each)."""
        hit, at_term = self.lookup(query)
        starts = self.post.indptr[at_term].astype(np.int64)
        lengths = self.post.indptr[at_term + 1] - starts
        group = (np.cumsum(lengths) - lengths) // _CHUNK
        bounds = [0, *(np.flatnonzero(np.diff(group)) + 1).tolist(), len(hit)]
        for a, b in itertools.pairwise(bounds):
            size, begin = lengths[a:b], starts[a:b]
            first = np.cumsum(size) - size
            at = np.arange(int(size.sum()), dtype=np.int64)
            at += np.repeat(begin - first, size)
            yield at, hit[a:b], size

    def dots_into(self, query: I32, weights: F64, out: NDArray[np.float32]) -> None:
        """Add the approximate dot products of the query with this segment's rows to ``out`` (float32,
        length ``stop - start``), in one pass over the query's postings.

        scipy's sparse product (the former way) reads every posting twice (a counting pass, then the
        product) and builds a sparse result; here scipy's CSC matrix-vector kernel adds each posting
        straight into ``out``. Its column pointers are the query's posting ranges in reverse order,
        interleaved with empty "columns" (from one range's end back to the previous range's start: the
        kernel's loop runs while start < end, so they add nothing), so only those postings are read."""
        hit, at_term = self.lookup(query)
        if not len(hit):
            return
        ptr, rev = self.post.indptr, at_term[::-1]
        cols = np.empty(2 * len(hit), dtype=self.post.indices.dtype)
        cols[0::2], cols[1::2] = ptr[rev], ptr[rev + 1]
        x = np.zeros(len(cols) - 1, dtype=np.float32)
        x[0::2] = weights[hit[::-1]]
        _sparsetools.csc_matvec(len(out), len(x), cols, self.post.indices, self.post.data, x, out)


def _segment(counts: sp.csr_matrix, start: int) -> _Segment:
    n = counts.shape[0]
    tf = tf_of(counts.data).astype(np.float32)
    if counts.nnz <= _SMALL_BUILD:
        rows = np.repeat(np.arange(n, dtype=np.int32), np.diff(counts.indptr))
        order = np.argsort(counts.indices, kind="stable")  # stable: rows ascending within a feature
        feats, first = np.unique(counts.indices[order], return_index=True)
        ptr = np.append(first, len(order))
        post = sp.csr_matrix((tf[order], rows[order], ptr), shape=(len(feats), n))
        return _Segment(start, start + n, feats.astype(np.int32), post)
    by_feature = sp.csr_matrix((tf, counts.indices, counts.indptr), shape=counts.shape).tocsc()
    sizes = np.diff(by_feature.indptr)
    feats = np.flatnonzero(sizes).astype(np.int32)
    ptr = np.concatenate([[0], np.cumsum(sizes[feats])])
    post = sp.csr_matrix((by_feature.data, by_feature.indices, ptr), shape=(len(feats), n))
    return _Segment(start, start + n, feats, post)


class TermIndex:
    """Rows of raw hashed n-gram counts, document frequencies and postings; see the module docstring."""

    def __init__(self, n_features: int, min_df: int) -> None:
        self.n_features = n_features
        self.min_df = min_df
        self._counts = _Grow(np.uint16)
        self._indices = _Grow(np.int32)
        self._indptr = _Grow(np.int64, [0])
        self._feats: I32 = np.zeros(0, np.int32)  # sorted features present in some row
        self._df: I64 = np.zeros(0, np.int64)
        self._dense_df: NDArray[np.int32] | None = None  # the same frequencies by feature, in a large index
        self._segments: list[_Segment] = []
        self._sums = (_Grow(np.float64), _Grow(np.float64), _Grow(np.float64))  # S0, S1, S2 per row
        self._norms: F64 | None = None  # exact norms of every row (full scan only), until the next change
        self._approx: F64 | None = None  # approx_norms() of every row, until the next change

    # ---- state -------------------------------------------------------------------------------------
    @property
    def n(self) -> int:
        return self._indptr.size - 1

    @property
    def entries(self) -> int:
        return self._indices.size

    def counts(self, rows: slice | NDArray[np.intp] | None = None) -> sp.csr_matrix:
        full = sp.csr_matrix(
            (self._counts.view, self._indices.view, self._indptr.view),
            shape=(self.n, self.n_features),
            copy=False,
        )
        return full if rows is None else full[rows]

    def tf_rows(self, rows: slice | NDArray[np.intp] | None = None) -> sp.csr_matrix:
        """The sublinear term-frequency rows, exactly as the former index stored them."""
        counts = self.counts(rows)
        return sp.csr_matrix((tf_of(counts.data), counts.indices, counts.indptr), shape=counts.shape)

    @property
    def nbytes(self) -> int:
        arrays = [self._counts, self._indices, self._indptr, *self._sums]
        held = sum(a.nbytes for a in arrays) + self._feats.nbytes + self._df.nbytes
        held += sum(a.nbytes for a in (self._dense_df, self._approx) if a is not None)
        return int(held + sum(s.nbytes for s in self._segments))

    def df_of(self, features: NDArray[Any]) -> I64:
        if self._dense_df is not None:
            dense_df: I64 = self._dense_df[features].astype(np.int64)
            return dense_df
        if len(features) > self.n_features // 4:  # many lookups: one dense pass is cheaper
            dense = np.zeros(self.n_features, np.int64)
            dense[self._feats] = self._df
            looked_up: I64 = dense[features]
            return looked_up
        out = np.zeros(len(features), np.int64)
        if len(self._feats):
            pos = np.minimum(np.searchsorted(self._feats, features), len(self._feats) - 1)
            hit = self._feats[pos] == features
            out[hit] = self._df[pos[hit]]
        return out

    # ---- maintenance -------------------------------------------------------------------------------
    def add(self, counts: sp.csr_matrix) -> None:
        """Append rows of raw counts (canonical CSR: sorted, no duplicates, no explicit zeros)."""
        if counts.shape[0] == 0:
            return
        before = self.n
        if counts.nnz > self.n_features // 4:  # a large batch: counting beats sorting
            per_feature = np.bincount(counts.indices, minlength=self.n_features)
            features = np.flatnonzero(per_feature)
            added = per_feature[features]
        else:
            features, added = np.unique(counts.indices, return_counts=True)
        old = self.df_of(features)
        if before:
            self._shift_sums(features, old, old + added)
        known = old > 0
        self._df[np.searchsorted(self._feats, features[known])] += added[known]
        fresh = features[~known]
        at = np.searchsorted(self._feats, fresh)
        self._feats = np.insert(self._feats, at, fresh.astype(np.int32))
        self._df = np.insert(self._df, at, added[~known])
        if self._dense_df is not None:
            self._dense_df[features] += added.astype(np.int32)  # features are distinct
        elif len(self._feats) * _DENSE_DF_SHARE >= self.n_features:
            self._dense_df = np.zeros(self.n_features, np.int32)
            self._dense_df[self._feats] = self._df
        nnz = self._indices.size
        self._counts.extend(counts.data.astype(np.int64))
        self._indices.extend(counts.indices.astype(np.int32))
        self._indptr.extend(counts.indptr[1:].astype(np.int64) + nnz)
        for total, part in zip(self._sums, self._row_sums(counts), strict=True):
            total.extend(part)
        self._segments.append(_segment(counts, before))
        self._merge()
        self._norms = self._approx = None

    def _row_sums(self, counts: sp.csr_matrix) -> tuple[F64, F64, F64]:
        """S0, S1, S2 of these rows under the current document frequencies."""
        df = self.df_of(counts.indices)
        t2 = tf_of(counts.data) ** 2 * (df >= self.min_df)
        log_df = np.log1p(df.astype(np.float64))
        row = np.repeat(np.arange(counts.shape[0]), np.diff(counts.indptr))
        size = counts.shape[0]
        s0: F64 = np.bincount(row, t2, minlength=size).astype(np.float64)
        s1: F64 = np.bincount(row, t2 * log_df, minlength=size).astype(np.float64)
        s2: F64 = np.bincount(row, t2 * log_df * log_df, minlength=size).astype(np.float64)
        return s0, s1, s2

    def _shift_sums(self, features: NDArray[Any], old: I64, new: I64) -> None:
        """Move the norm sums of the rows holding ``features`` from document frequencies old to new."""
        was, now = (old >= self.min_df).astype(float), (new >= self.min_df).astype(float)
        l_old, l_new = np.log1p(old.astype(float)), np.log1p(new.astype(float))
        coef = (now - was, now * l_new - was * l_old, now * l_new**2 - was * l_old**2)
        query = features[old > 0].astype(np.int32)
        coef = tuple(c[old > 0] for c in coef)
        for seg in self._segments:
            for at, which, sizes in seg.postings(query):
                rows, t2 = seg.post.indices[at], seg.post.data[at].astype(np.float64) ** 2
                for total, c in zip(self._sums, coef, strict=True):
                    part = np.bincount(rows, t2 * np.repeat(c[which], sizes), minlength=seg.stop - seg.start)
                    total.view[seg.start : seg.stop] += part

    def _merge(self) -> None:
        """Keep segment sizes geometric (at most log2(n) segments); a merge also recomputes the norm sums
        of its rows from scratch, so rounding drift never accumulates for long."""
        segs = self._segments
        while len(segs) >= 2 and segs[-2].stop - segs[-2].start <= 2 * (segs[-1].stop - segs[-1].start):
            last, prev = segs.pop(), segs.pop()
            counts = self.counts(slice(prev.start, last.stop))
            segs.append(_segment(counts, prev.start))
            for total, part in zip(self._sums, self._row_sums(counts), strict=True):
                total.view[prev.start : last.stop] = part

    # ---- similarity --------------------------------------------------------------------------------
    def query(self, tf_row: sp.csr_matrix) -> Query:
        return Query(self, tf_row)

    def exact_norms(self, rows: NDArray[np.intp] | None = None) -> F64:
        """The former code's row norms for these rows (default: all), bit for bit: the same operations,
        and each row's sum depends on that row alone."""
        squared = self.tf_rows(rows)
        idf = idf_weights(self.df_of(squared.indices), self.n, self.min_df)
        squared.data = squared.data**2 * (idf * idf)
        norms: F64 = np.sqrt(np.asarray(squared.sum(axis=1))).ravel()
        return norms

    def all_norms(self) -> F64:
        if self._norms is None:
            self._norms = self.exact_norms()
        return self._norms

    def cosine(self, queries: sp.csr_matrix) -> F64:
        """Exact cosine of each query row (tf) with every row, shape (queries, n): the former full scan,
        for callers that want every similarity (estimates rank with :class:`Query` instead)."""
        idf = idf_weights(self.df_of(queries.indices), self.n, self.min_df)
        weighted = sp.csr_matrix(queries, copy=True)
        weighted.data *= idf * idf
        q_norms = np.sqrt(np.asarray(weighted.multiply(queries).sum(axis=1))).ravel()
        dots = np.asarray((self.tf_rows() @ weighted.T).todense()).T
        denom = np.outer(q_norms, self.all_norms())
        with np.errstate(divide="ignore", invalid="ignore"):
            out: F64 = np.where(denom > 0, dots / np.where(denom > 0, denom, 1.0), 0.0)
        return out

    def approx_norms(self) -> F64:
        """Every row's norm from the incremental sums (within NORM_ERROR relative); kept until the next
        add, so estimates between adds share it."""
        if self._approx is None:
            c = np.log(1.0 + self.n) + 1.0
            s0, s1, s2 = (s.view for s in self._sums)
            squared = c * c * s0 - 2.0 * c * s1 + s2
            self._approx = np.sqrt(np.clip(squared, 0.0, None))
        return self._approx


class Query:
    """One query row against a :class:`TermIndex`: approximate cosines for all rows, exact for some."""

    def __init__(self, index: TermIndex, tf_row: sp.csr_matrix) -> None:
        self.index = index
        self.features = tf_row.indices.astype(np.int32)
        idf = idf_weights(index.df_of(self.features), index.n, index.min_df)
        weighted = sp.csr_matrix(tf_row, copy=True)
        weighted.data *= idf * idf  # as the former code: query tf times squared IDF
        self.weights: F64 = weighted.data
        self.norm = float(np.sqrt(np.asarray(weighted.multiply(tf_row).sum(axis=1))).ravel()[0])

    @property
    def active_terms(self) -> int:
        return int((self.weights > 0).sum())

    def approx(self) -> F64:
        """Cosine with every row, within :func:`slack` of the exact one; exactly 0 where no active term
        is shared."""
        index, active = self.index, self.weights > 0
        features, weights = self.features[active], self.weights[active]
        dots = np.zeros(index.n, dtype=np.float32)
        for seg in index._segments:
            seg.dots_into(features, weights, dots[seg.start : seg.stop])
        hit = np.flatnonzero(dots)
        out = np.zeros(index.n)
        out[hit] = dots[hit] / (self.norm * index.approx_norms()[hit])
        return out

    def _dots(self, rows: NDArray[np.intp]) -> F64:
        """The former code's dot products for these rows, bit for bit: each row's shared terms are
        accumulated one after the other in feature order, as scipy's sparse product does."""
        tf = self.index.tf_rows(rows)
        dots = np.zeros(len(rows))
        if not len(self.features) or not tf.nnz:
            return dots
        pos = np.minimum(np.searchsorted(self.features, tf.indices), len(self.features) - 1)
        shared = np.flatnonzero(self.features[pos] == tf.indices)
        row_of = np.repeat(np.arange(len(rows)), np.diff(tf.indptr))
        np.add.at(dots, row_of[shared], tf.data[shared] * self.weights[pos[shared]])  # in order
        return dots

    def _cosine(self, dots: F64, norms: F64) -> F64:
        out = np.zeros(len(dots))
        hit = dots > 0  # a shared active term; the former code gave exactly 0 elsewhere
        out[hit] = dots[hit] / (self.norm * norms[hit])
        return out

    def exact(self, rows: NDArray[np.intp]) -> F64:
        """The former code's cosines for these rows, bit for bit (norms recomputed for them only)."""
        rows = np.asarray(rows, dtype=np.intp)
        dots = self._dots(rows)
        norms = np.zeros(len(rows))
        hit = dots > 0
        norms[hit] = self.index.exact_norms(rows[hit])
        return self._cosine(dots, norms)
