"""Story-point estimator cost at 5k/20k/50k indexed tasks: the current index beside the former one.

    python -m evals.bench_estimation [--data DIR] [--texts zipf|uniform|real] [--sizes 5000,20000,50000]
                                     [--queries 30] [--adds 5] [--configs light,embeddings]

Every figure is printed beside the former algorithm's (kept below as :class:`FormerEstimator`, same run,
same texts), and the run checks that both give byte-identical estimates and bit-identical similarities.
Texts: ``zipf`` (default) draws words from a Zipf-distributed vocabulary of 30,000 made-up words, like
real text; ``uniform`` is the former bench's 44-word vocabulary (every task shares almost every n-gram:
the worst case for any inverted index); ``real`` pools the Jira issues under --data (28k at most).

For ``embeddings`` the sentence vectors are deterministic random unit vectors put into a private cache
beforehand: encoding a new text is the same per-text cost before and after (printed once, measured with
the installed model), and encoding 50k texts with our numpy forward pass would take most of an hour.
Memory: bytes held by an estimator's arrays, and tracemalloc's peak of one estimate (or one add: median,
and in brackets the largest, when a growing array takes its next 25%) over what was allocated before it.
Times: wall and process CPU (time.process_time), p50/p95 over the queries.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from typing import Any

import numpy as np
import scipy.sparse as sp
from rich.console import Console
from rich.table import Table

from tools.estimation import CONFIGS, Estimate, EstimatorConfig, Neighbour, PastTask, StoryPointEstimator
from tools.estimation.aggregate import detect_scale, snap, weighted_median, weighted_quantile
from tools.estimation.embeddings import CACHE_ENV, INSTALL_HINT, embedding_text, shared_cache, text_key
from tools.estimation.embeddings import available as embeddings_available
from tools.estimation.estimator import _EPS
from tools.estimation.features import CHAR_FEATURES, WORD_FEATURES, idf_weights, presence_counts

# fmt: off
WORDS = [
    "login", "page", "api", "endpoint", "crash", "timeout", "cache", "database", "migration",
    "index", "query", "slow", "report", "export", "csv", "button", "layout", "mobile", "android",
    "ios", "build", "release", "test", "flaky", "config", "flag", "upgrade", "dependency", "docs",
    "error", "null", "pointer", "memory", "leak", "scheduler", "executor", "cluster", "node",
    "network", "retry", "auth", "token", "permission", "user",
]
# fmt: on
POINTS = [1, 2, 3, 5, 8, 13]
GOAL_MS_50K = 30.0  # issue 23: estimation at most 30 ms at 50k indexed tasks


def synthetic_tasks(n: int, seed: int) -> list[PastTask]:
    """The former bench's texts: 44 words, so every task shares almost every n-gram (worst case)."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        pts = rng.choice(POINTS)
        title = " ".join(rng.choices(WORDS, k=rng.randint(4, 10)))
        body = " ".join(rng.choices(WORDS, k=rng.randint(10, 40 + 20 * pts)))
        out.append(PastTask(id=f"T-{i}", title=title, description=body, points=pts))
    return out


def zipf_tasks(n: int, seed: int, vocabulary: int = 30_000) -> list[PastTask]:
    """Words drawn from a Zipf(1.1) law over made-up words (a few very common, most rare, as in text)."""
    rng = np.random.default_rng(seed)
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    lengths = rng.integers(2, 11, size=vocabulary)
    words = ["".join(rng.choice(letters, size=int(k))) for k in lengths]
    weights = 1.0 / np.arange(1, vocabulary + 1) ** 1.1
    weights /= weights.sum()
    out = []
    for i in range(n):
        pts = int(rng.choice(POINTS))
        title = " ".join(words[j] for j in rng.choice(vocabulary, size=int(rng.integers(4, 12)), p=weights))
        size = int(rng.integers(10, 60 + 25 * pts))
        body = " ".join(words[j] for j in rng.choice(vocabulary, size=size, p=weights))
        out.append(PastTask(id=f"Z-{i}", title=title, description=body, points=pts))
    return out


def real_tasks(data_dir: str, n: int, seed: int) -> list[PastTask]:
    from evals.datasets.storypoints import load_projects

    pool = [
        PastTask(id=i.issue_key, title=i.title, description=i.description, points=i.points)
        for p in load_projects(data_dir)
        for i in p.issues
    ]
    if len(pool) < n:
        raise ValueError(f"only {len(pool)} issues under {data_dir}, {n} requested")
    random.Random(seed).shuffle(pool)
    return pool[:n]


# ---- the former algorithm (before issue 23), kept verbatim as the reference of every run -------------
class _FormerBlock:
    """The former n-gram block: every row scanned per query, dense 2^20 arrays, invalidated per add."""

    def __init__(self, n_features: int) -> None:
        self.rows: sp.csr_matrix = sp.csr_matrix((0, n_features), dtype=np.float64)
        self.df = np.zeros(n_features, dtype=np.int64)
        self._idf2: np.ndarray | None = None
        self._norms: np.ndarray | None = None

    def add(self, rows: sp.csr_matrix) -> None:
        self.rows = sp.vstack([self.rows, rows], format="csr")
        self.df += presence_counts(rows)
        self._idf2 = None
        self._norms = None

    def cosine(self, queries: sp.csr_matrix, min_df: int) -> np.ndarray:
        if self._idf2 is None or self._norms is None:
            idf = idf_weights(self.df, self.rows.shape[0], min_df)
            self._idf2 = idf * idf
            squared = self.rows.copy()
            squared.data = squared.data**2 * self._idf2[squared.indices]
            self._norms = np.sqrt(np.asarray(squared.sum(axis=1))).ravel()
        weighted = sp.csr_matrix(queries, copy=True)
        weighted.data *= self._idf2[weighted.indices]
        q_norms = np.sqrt(np.asarray(weighted.multiply(queries).sum(axis=1))).ravel()
        dots = np.asarray((self.rows @ weighted.T).todense()).T
        denom = np.outer(q_norms, self._norms)
        with np.errstate(divide="ignore", invalid="ignore"):
            out: np.ndarray = np.where(denom > 0, dots / np.where(denom > 0, denom, 1.0), 0.0)
        return out


class FormerEstimator(StoryPointEstimator):
    """The former index and scan (add, similarities, estimates); the rest (configuration, prior, scale,
    the estimate built from the best rows) is the current class's, which this change left as it was."""

    def __init__(self, config: EstimatorConfig | None = None) -> None:
        super().__init__(config)
        self._fword, self._fchar = _FormerBlock(WORD_FEATURES), _FormerBlock(CHAR_FEATURES)
        self._femb = np.zeros((0, self._emb_store.shape[1]), dtype=np.float32)

    @property
    def nbytes(self) -> int:
        arrays: list[Any] = [self._femb, self._points]
        for b in (self._fword, self._fchar):
            arrays += [b.rows.data, b.rows.indices, b.rows.indptr, b.df, b._idf2, b._norms]
        return int(sum(a.nbytes for a in arrays if a is not None))

    def scale(self) -> tuple[float, ...] | None:
        return detect_scale(self._points.tolist())  # the former: recounted at every estimate

    def add(self, tasks: Iterable[PastTask]) -> int:
        batch = list({t.id: t for t in tasks}.values())
        if not batch or {t.id for t in batch} & set(self._ids):
            raise ValueError("the reference indexes new ids only")
        word, char = self._hasher.transform([self._text(t.title, t.description) for t in batch])
        self._fword.add(word)
        self._fchar.add(char)
        self._ids += [t.id for t in batch]
        self._titles += [t.title for t in batch]
        self._points = np.concatenate([self._points, np.array([t.points for t in batch], dtype=np.float64)])
        if self._cache is not None:
            self._femb = np.vstack([self._femb, self._embed([(t.title, t.description) for t in batch])])
        return len(batch)

    def similarities(self, queries: Sequence[tuple[str, str]]) -> np.ndarray:
        word, char = self._hasher.transform([self._text(t, d) for t, d in queries])
        w = self.config.word_weight
        ngram = w * self._fword.cosine(word, self.config.min_df) + (1 - w) * self._fchar.cosine(
            char, self.config.min_df
        )
        if self._cache is None:
            return ngram
        e = self.config.embedding_weight
        return (1 - e) * ngram + e * (self._embed(queries) @ self._femb.T).astype(np.float64)

    def similar(self, title: str, description: str, n: int) -> list[Neighbour]:
        """The ``n`` most similar indexed tasks, most similar first (ties: the earlier indexed)."""
        row = self.similarities([(title, description)])[0]
        ranked = self._ranked(row * self._recency(), n)
        return [
            Neighbour(
                id=self._ids[i],
                title=self._titles[i],
                points=float(self._points[i]),
                similarity=float(row[i]),
            )
            for i in ranked
        ]

    def estimate_many(self, queries: Sequence[tuple[str, str]]) -> list[Estimate]:
        if not queries:
            return []
        sims = self.similarities(queries)
        ranked = sims * self._recency()[None, :]
        return [self._former_estimate_row(row, rank) for row, rank in zip(sims, ranked, strict=True)]

    def _ranked(self, row: np.ndarray, k: int) -> np.ndarray:
        # stable sort: ties go to the earlier-indexed task, so results are deterministic
        return np.argsort(-row, kind="stable")[:k]

    def _former_estimate_row(self, row: np.ndarray, rank: np.ndarray) -> Estimate:
        """``row``: text similarity to each indexed task (shown as evidence); ``rank``: after recency."""
        prior = float(np.median(self._points))
        scale = self.scale()
        top = self._ranked(rank, max(self.k, 3))
        neighbours = [
            Neighbour(
                id=self._ids[i],
                title=self._titles[i],
                points=float(self._points[i]),
                similarity=float(row[i]),
            )
            for i in top[:3]
        ]
        if len(self._ids) < self.config.min_history:
            value = prior
            low, high = float(self._points.min()), float(self._points.max())
            return Estimate(
                points=snap(value, scale),
                raw=value,
                low=snap(low, scale),
                high=snap(high, scale),
                neighbours=neighbours,
                method=self._method("history-median (too little history)"),
                confidence=0.0,
                config=self.config.name,
            )
        nb = top[: self.k]
        values, weights = self._points[nb], np.clip(rank[nb], 0.0, None) + _EPS
        knn = weighted_median(values, weights)
        threshold = self.config.duplicate_similarity
        duplicate = threshold is not None and row[top[0]] >= threshold
        # A near-duplicate of a past task is strong evidence: its neighbourhood is taken as it is.
        shrinkage = 1.0 if duplicate else self._shrinkage
        raw = prior + shrinkage * (knn - prior)
        points = snap(raw, scale)
        q_low, q_high = self.config.range_quantiles
        low = min(points, snap(weighted_quantile(values, weights, q_low), scale))
        high = max(points, snap(weighted_quantile(values, weights, q_high), scale))
        spread = (high - low) / max(points, 1.0)
        closeness = float(np.clip(row[top[:3]].mean(), 0.0, 1.0))
        confidence = float(np.clip(closeness / (1.0 + spread), 0.0, 1.0))
        method = (
            f"tfidf-knn(k={self.k}) weighted median of a near-duplicate's neighbourhood, unshrunk"
            if duplicate
            else f"tfidf-knn(k={self.k}) weighted median, shrunk {self._shrinkage:.2f} toward history median"
        )
        return Estimate(
            points=points,
            raw=raw,
            low=low,
            high=high,
            neighbours=neighbours,
            method=self._method(method),
            confidence=confidence,
            config=self.config.name,
        )


# ---- measuring ----------------------------------------------------------------------------------------
def _timed(fn: Callable[[], Any]) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def _peak_mb(fn: Callable[[], Any]) -> float:
    """tracemalloc's peak during ``fn`` above what was allocated before it (MB)."""
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return (peak - base) / 1e6


def held_mb(est: StoryPointEstimator) -> float:
    """Bytes held by an estimator's index arrays (MB)."""
    return est.nbytes / 1e6


def prefill_vectors(tasks: Iterable[PastTask], seed: int) -> None:
    """Deterministic random unit vectors for these texts in the (private) shared cache."""
    cache = shared_cache()
    rng = np.random.default_rng(seed)
    for t in tasks:
        v = rng.standard_normal(cache.encoder.dim).astype(np.float32)
        cache._vectors[text_key(embedding_text(t.title, t.description))] = v / np.linalg.norm(v)


def bench_one(
    make: Callable[[], StoryPointEstimator],
    tasks: Sequence[PastTask],
    queries: Sequence[PastTask],
    extra: Sequence[PastTask],
) -> tuple[dict[str, float], list[str], np.ndarray]:
    est = make()
    index_s, _ = _timed(lambda: est.add(tasks))
    est.estimate(queries[0].title, queries[0].description)  # first call: the former builds its norms
    walls, cpus = [], []
    for q in queries[1:]:
        wall, cpu = _timed(partial(est.estimate, q.title, q.description))
        walls.append(wall)
        cpus.append(cpu)
    est_peak = _peak_mb(partial(est.estimate, queries[1].title, queries[1].description))
    held = held_mb(est)
    add_walls, next_walls, add_peaks, next_peaks = [], [], [], []
    for i, task in enumerate(extra):
        if i % 2 == 0:  # memory and time measured on alternate adds (tracemalloc slows what it traces)
            add_peaks.append(_peak_mb(partial(est.add, [task])))
        else:
            add_walls.append(_timed(partial(est.add, [task]))[0])
        # the first estimate after an add: the former recomputes every row norm here
        first = partial(est.estimate, queries[0].title, queries[0].description)
        if i % 2 == 0:
            next_walls.append(_timed(first)[0])
        else:
            next_peaks.append(_peak_mb(first))
    outputs = [e.model_dump_json() for e in est.estimate_many([(q.title, q.description) for q in queries])]
    sims = est.similarities([(q.title, q.description) for q in queries[:3]])
    walls.sort()
    cpus.sort()
    row = {
        "index_s": index_s,
        "p50": statistics.median(walls),
        "p95": walls[int(0.95 * (len(walls) - 1))],
        "cpu50": statistics.median(cpus),
        "peak": est_peak,
        "held": held,
        "add": statistics.median(add_walls) if add_walls else float("nan"),
        "add_peak": statistics.median(add_peaks) if add_peaks else float("nan"),
        "add_peak_max": max(add_peaks) if add_peaks else float("nan"),
        "next": statistics.median(next_walls) if next_walls else float("nan"),
        "next_peak": statistics.median(next_peaks) if next_peaks else float("nan"),
    }
    return row, outputs, sims


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", default=None)
    parser.add_argument("--texts", choices=("zipf", "uniform", "real"), default="zipf")
    parser.add_argument("--sizes", default="5000,20000,50000")
    parser.add_argument("--queries", type=int, default=30)
    parser.add_argument("--adds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--configs", default="light,embeddings")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    names = [c.strip() for c in args.configs.split(",") if c.strip()]
    if not embeddings_available() and any(CONFIGS[n].embeddings for n in names):
        names = [n for n in names if not CONFIGS[n].embeddings]
        print(f"skipped the embedding configuration: {INSTALL_HINT}")
    total = max(sizes) + args.queries + args.adds
    if args.texts == "real":
        if not args.data:
            parser.error("--texts real needs --data")
        pool = real_tasks(args.data, total, args.seed)
    else:
        pool = (zipf_tasks if args.texts == "zipf" else synthetic_tasks)(total, args.seed)
    queries = pool[-(args.queries + args.adds) : -args.adds] if args.adds else pool[-args.queries :]
    extra = pool[-args.adds :] if args.adds else []
    table = Table(title=f"Story-point estimation, {args.texts} texts: current (former, same run)")
    for column in (
        "config",
        "indexed",
        "estimate p50 ms",
        "p95 ms",
        "CPU p50 ms",
        "peak MB / estimate",
        "held MB",
        "add 1 task ms",
        "peak MB / add (max)",
        "1st estimate after add ms",
        "its peak MB",
        "index s",
        "identical",
        "goal",
    ):
        table.add_column(column, justify="left" if column in ("config", "goal") else "right")
    with tempfile.TemporaryDirectory() as cache_dir:
        os.environ[CACHE_ENV] = cache_dir
        shared_cache.cache_clear()
        if any(CONFIGS[n].embeddings for n in names):
            prefill_vectors(pool, args.seed)
            t0 = time.perf_counter()
            shared_cache().encoder.encode([embedding_text(q.title, q.description) for q in queries[:5]])
            print(
                f"encoding one new text (installed model, not in either figure): "
                f"{(time.perf_counter() - t0) / 5 * 1000:.0f} ms"
            )
        for n in sizes:
            tasks = pool[:n]
            for name in names:
                config = CONFIGS[name]
                new, new_out, new_sims = bench_one(
                    partial(StoryPointEstimator, config), tasks, queries, extra
                )
                gc.collect()
                old, old_out, old_sims = bench_one(partial(FormerEstimator, config), tasks, queries, extra)
                gc.collect()
                same = new_out == old_out and np.array_equal(new_sims, old_sims)

                def pair(
                    key: str,
                    scale: float = 1000.0,
                    fmt: str = "{:.1f}",
                    new: dict[str, float] = new,
                    old: dict[str, float] = old,
                ) -> str:
                    return f"{fmt.format(new[key] * scale)} ({fmt.format(old[key] * scale)})"

                goal = ""
                if n >= 50_000:
                    goal = f"p50 <= {GOAL_MS_50K:.0f} ms: " + (
                        "met" if new["p50"] * 1000 <= GOAL_MS_50K else "MISSED"
                    )
                table.add_row(
                    name,
                    f"{n:,}",
                    pair("p50"),
                    pair("p95"),
                    pair("cpu50"),
                    pair("peak", 1.0),
                    pair("held", 1.0),
                    pair("add"),
                    f"{pair('add_peak', 1.0)} [{new['add_peak_max']:.0f} ({old['add_peak_max']:.0f})]",
                    pair("next"),
                    pair("next_peak", 1.0),
                    pair("index_s", 1.0, "{:.1f}"),
                    "yes" if same else "NO",
                    goal,
                )
                print(f"done {name} {n}", flush=True)
        shared_cache.cache_clear()
    Console(width=250).print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
