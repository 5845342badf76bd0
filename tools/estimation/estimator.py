"""Story points by comparison with the team's own completed tasks.

The estimate starts from a robust prior (the median of the team's history, which published replications
show is very hard to beat on MAE) and moves towards the similarity-weighted median of the k most similar
past tasks by a shrinkage factor; the result is snapped to the team's scale. Median-type aggregators
minimise absolute error, which is what MAE measures. ``tune`` picks k and the shrinkage on tasks held out
from the index (a validation split, never the test split).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from tools.estimation.aggregate import detect_scale, snap, weighted_median, weighted_quantile
from tools.estimation.default import FALLBACK_CONFIG, LOAD_FAILED, product_config
from tools.estimation.embeddings import EmbeddingCache, embedding_text, shared_cache
from tools.estimation.features import CHAR_FEATURES, WORD_FEATURES, TextHasher, sublinear, task_text
from tools.estimation.fewshot import FEWSHOT_EXAMPLES, Refiner, combine
from tools.estimation.historycheck import FoldRule, HistoryCheck, check_history, recency
from tools.estimation.models import CONFIGS, Estimate, EstimatorConfig, Neighbour, PastTask, TuningResult
from tools.estimation.termindex import TermIndex, slack

TUNE_K = (5, 10, 20, 40)
TUNE_SHRINKAGE = (0.0, 0.25, 0.5, 0.75, 1.0)
# A tuned setting must beat the default by this relative margin on validation, or the default stays:
# small validation sets are noisy and the default is the safer bet.
TUNE_MARGIN = 0.01
_EPS = 1e-6
# Up to this many indexed n-gram entries (a few hundred tasks) an estimate scans every row: cheaper there
# than ranking (measured, CPU per estimate: 300 tasks 7.7 ms full vs 9.1 ranked; 1,000 tasks 19 vs 11).
FULL_SCAN_ENTRIES = 400_000
# The history check (config.history_check) is redone once the index has grown or shrunk by this share since
# the last one, not after every add: one check costs about as much as estimating 40% of the history.
RECHECK_CHANGE = 0.1


class TopRows(NamedTuple):
    """The best indexed rows for one query, best first, with their similarity and their rank (the
    similarity after recency)."""

    rows: np.ndarray
    sims: np.ndarray
    ranks: np.ndarray


class StoryPointEstimator:
    """Incremental kNN index over past tasks; see the module docstring for the method."""

    def __init__(self, config: EstimatorConfig | None = None) -> None:
        """``config=None``: the product's default configuration, or its fallback when the default's
        weights are missing (tools/estimation/default.py); the fallback is named in every estimate."""
        self.fallback: str | None = None
        if config is None:
            choice = product_config()
            config, self.fallback = choice.config, choice.fallback
            if config.embeddings:
                try:
                    shared_cache()  # loaded once per process; a broken install must not stop triage
                except (OSError, ValueError, KeyError) as err:
                    config = CONFIGS[FALLBACK_CONFIG]
                    self.fallback = f"{FALLBACK_CONFIG} fallback: {LOAD_FAILED} ({type(err).__name__})"
        self.config: EstimatorConfig = config
        self._hasher = TextHasher()
        self._word = TermIndex(WORD_FEATURES, config.min_df)
        self._char = TermIndex(CHAR_FEATURES, config.min_df)
        self._ids: list[str] = []
        self._titles: list[str] = []
        self._points = np.zeros(0, dtype=np.float64)
        self._scale_memo: tuple[np.ndarray, tuple[float, ...] | None] | None = None
        # sentence vectors of the indexed tasks (embeddings configuration only), row-aligned with _ids
        self._cache: EmbeddingCache | None = shared_cache() if config.embeddings else None
        # grown with spare capacity (an add appends, it does not copy the whole matrix)
        self._emb_store = np.zeros((0, self._cache.encoder.dim if self._cache is not None else 0), np.float32)
        self._k: int | None = config.k
        self._shrinkage = config.shrinkage
        self.tuning: TuningResult | None = None
        self.checked: HistoryCheck | None = None  # the last history check (config.history_check)

    # ---- index maintenance -------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._ids)

    @property
    def nbytes(self) -> int:
        """Bytes held by the index: n-gram counts and postings, frequencies, norm sums, vectors."""
        held = self._word.nbytes + self._char.nbytes + self._emb_store.nbytes + self._points.nbytes
        return int(held)

    @property
    def ids(self) -> list[str]:
        return list(self._ids)

    def add(self, tasks: Iterable[PastTask]) -> int:
        """Index completed tasks (an id already indexed is replaced). Returns how many were added."""
        batch = list(tasks)
        if not batch:
            return 0
        seen: dict[str, PastTask] = {}
        for task in batch:
            seen[task.id] = task  # the last version of a duplicated id wins
        batch = list(seen.values())
        known = set(self._ids)  # once, not per task: an add to a large index stays cheap
        self.remove(t.id for t in batch if t.id in known)
        word, char = self._hasher.counts([self._text(t.title, t.description) for t in batch])
        self._word.add(word)
        self._char.add(char)
        self._ids += [t.id for t in batch]
        self._titles += [t.title for t in batch]
        self._points = np.concatenate([self._points, np.array([t.points for t in batch], dtype=np.float64)])
        if self._cache is not None:
            self._append_emb(self._embed([(t.title, t.description) for t in batch]))
            # Indexed tasks' vectors are kept for the next run (user cache dir, never the repo). Only
            # indexing saves: an estimate must not rewrite the whole cache file for one new text.
            self._cache.save()
        return len(batch)

    @property
    def _emb(self) -> np.ndarray:
        """Sentence vectors of the indexed tasks, row-aligned with the ids (a view, no copy)."""
        return self._emb_store[: len(self._ids)]

    def _append_emb(self, vectors: np.ndarray) -> None:
        n, need = len(self._ids) - len(vectors), len(self._ids)
        if need > len(self._emb_store):
            size = max(need, int(1.25 * len(self._emb_store)), 16)  # at most 25% spare
            grown = np.zeros((size, self._emb_store.shape[1]), np.float32)
            grown[:n] = self._emb_store[:n]
            self._emb_store = grown
        self._emb_store[n:need] = vectors

    def _embed(self, queries: Sequence[tuple[str, str]]) -> np.ndarray:
        assert self._cache is not None
        return self._cache.vectors([embedding_text(t, d) for t, d in queries])

    def remove(self, ids: Iterable[str]) -> int:
        gone = set(ids)
        if not gone:
            return 0
        mask = np.array([i not in gone for i in self._ids], dtype=bool)
        removed = int((~mask).sum())
        if removed:
            kept = np.flatnonzero(mask)
            self._word = self._rebuilt(self._word, kept)
            self._char = self._rebuilt(self._char, kept)
            self._ids = [i for i, keep in zip(self._ids, mask, strict=True) if keep]
            self._titles = [t for t, keep in zip(self._titles, mask, strict=True) if keep]
            self._points = self._points[mask]
            if self._cache is not None:
                self._emb_store = self._emb_store[: len(mask)][mask]
            self.checked = None  # the history it checked is gone
        return removed

    def _rebuilt(self, index: TermIndex, rows: np.ndarray | slice) -> TermIndex:
        # removing rows changes the document frequencies of their terms: rebuilt (rare: replaced ids)
        fresh = TermIndex(index.n_features, self.config.min_df)
        fresh.add(index.counts(rows))
        return fresh

    def _text(self, title: str, description: str) -> str:
        return task_text(
            title, description, title_weight=self.config.title_weight, max_chars=self.config.max_chars
        )

    # ---- estimation --------------------------------------------------------------------------------
    @property
    def k(self) -> int:
        n = len(self._ids)
        if self.tuning is not None and self._k is not None:
            return max(1, min(self._k, n))  # chosen on held-out tasks of this history: used as it is
        return self.config.neighbours_for(n)

    @property
    def shrinkage(self) -> float:
        """The shrinkage estimates use (after the last history check, when the configuration has one)."""
        return self.checked.shrinkage if self._uses_check() and self.checked is not None else self._shrinkage

    def _uses_check(self) -> bool:
        return self.config.history_check and self.tuning is None  # a tuned setting is used as it is

    def _current_shrinkage(self) -> float:
        if not self._uses_check():
            return self._shrinkage
        n, last = len(self._ids), self.checked
        if last is None or abs(n - last.n_indexed) >= max(1.0, RECHECK_CHANGE * last.n_indexed):
            self.checked = self.check_history()
        return self.checked.shrinkage if self.checked is not None else self._shrinkage

    def check_history(self) -> HistoryCheck:
        """Replay the estimator on the newest part of its own history (tools/estimation/historycheck.py)."""
        emb = self._emb if self._cache is not None else None

        def similarities(rows: slice) -> np.ndarray:
            held = emb[rows] if emb is not None else None
            return self._blend(self._word.tf_rows(rows), self._char.tf_rows(rows), held)

        rule = FoldRule(
            shrinkage=self._shrinkage,
            duplicate_similarity=self.config.duplicate_similarity,
            recency_decay=self.config.recency_decay,
        )
        return check_history(self._points, similarities, self.config.neighbours_for, rule)

    def prior(self) -> float:
        self._require_history()
        return float(np.median(self._points))

    def scale(self) -> tuple[float, ...] | None:
        # O(n) in Python: computed once per state of the points (each change assigns a new array), not
        # per estimate (14 ms of every estimate at 20k tasks)
        memo = self._scale_memo
        if memo is None or memo[0] is not self._points:
            memo = self._scale_memo = (self._points, detect_scale(self._points.tolist()))
        return memo[1]

    def similarities(self, queries: Sequence[tuple[str, str]]) -> np.ndarray:
        """Similarity of each (title, description) to every indexed task, shape (len(queries), len(self)).

        A full scan (every row's exact cosine); estimates need only the best rows (:meth:`_top`)."""
        self._require_history()
        word, char = self._hasher.transform([self._text(t, d) for t, d in queries])
        return self._blend(word, char, self._embed(queries) if self._cache is not None else None)

    def _top(self, queries: Sequence[tuple[str, str]], count: int) -> list[TopRows]:
        """Per query, the ``count`` best indexed tasks by similarity times recency (ties: the earlier
        indexed), with their similarities: the same rows and the same bits as sorting the full scan.

        Approximate cosines (termindex.py) rank every row cheaply; rows within twice their error bound of
        the count-th best are recomputed exactly and sorted, so no row that belongs in the top is missed."""
        self._require_history()
        word, char = self._hasher.transform([self._text(t, d) for t, d in queries])
        # the same product as the full scan (one call for all queries): the same bits
        emb = (self._embed(queries) @ self._emb.T).astype(np.float64) if self._cache is not None else None
        recency = self._recency()
        n, w = len(self._ids), self.config.word_weight
        e = self.config.embedding_weight
        out: list[TopRows] = []
        if self._word.entries + self._char.entries <= FULL_SCAN_ENTRIES:
            # a small index: the full scan costs less than ranking twice (and is the former code)
            ngram = w * self._word.cosine(word) + (1 - w) * self._char.cosine(char)
            full = ngram if emb is None else (1 - e) * ngram + e * emb
            for row in full:
                rank = row * recency
                best = np.argsort(-rank, kind="stable")[:count]
                out.append(TopRows(best, row[best], rank[best]))
            return out
        for i in range(len(queries)):
            wq, cq = self._word.query(word[i]), self._char.query(char[i])
            approx = w * wq.approx() + (1 - w) * cq.approx()
            if emb is not None:
                approx = (1 - e) * approx + e * emb[i]
            approx *= recency
            take = min(count, n)
            kth = np.partition(approx, n - take)[n - take]
            margin = slack(max(wq.active_terms, cq.active_terms))
            rows = np.flatnonzero(approx >= kth - 2 * margin)
            sims = w * wq.exact(rows) + (1 - w) * cq.exact(rows)
            if emb is not None:
                sims = (1 - e) * sims + e * emb[i][rows]
            ranks = sims * recency[rows]
            if np.abs(ranks - approx[rows]).max() > margin:  # never seen; a safe answer if it happens
                sims = w * self._word.cosine(word[i])[0] + (1 - w) * self._char.cosine(char[i])[0]
                sims = sims if emb is None else (1 - e) * sims + e * emb[i]
                rows, ranks = np.arange(n), sims * recency
            best = np.argsort(-ranks, kind="stable")[:take]  # rows ascending: ties to the earlier task
            out.append(TopRows(rows[best], sims[best], ranks[best]))
        return out

    def estimate(self, title: str, description: str = "", *, refine: Refiner | None = None) -> Estimate:
        """The kNN estimate; with ``refine`` (a model's few-shot answer, tools/estimation/fewshot.py) the
        model is shown the FEWSHOT_EXAMPLES most similar completed tasks and its answer is blended in."""
        estimate = self.estimate_many([(title, description)])[0]
        if refine is None or len(self._ids) < self.config.min_history:
            return estimate
        shown = self.similar(title, description, FEWSHOT_EXAMPLES)
        return combine(estimate, refine(title, description, shown, estimate), scale=self.scale())

    def similar(self, title: str, description: str, n: int) -> list[Neighbour]:
        """The ``n`` most similar indexed tasks, most similar first (ties: the earlier indexed)."""
        top = self._top([(title, description)], n)[0]
        return self._neighbours(top, n)

    def estimate_many(self, queries: Sequence[tuple[str, str]]) -> list[Estimate]:
        if not queries:
            return []
        shrinkage = (
            self._current_shrinkage() if len(self._ids) >= self.config.min_history else self._shrinkage
        )
        return [self._estimate_row(top, shrinkage) for top in self._top(queries, max(self.k, 3))]

    def _neighbours(self, top: TopRows, n: int) -> list[Neighbour]:
        return [
            Neighbour(
                id=self._ids[i],
                title=self._titles[i],
                points=float(self._points[i]),
                similarity=float(sim),
            )
            for i, sim in zip(top.rows[:n], top.sims[:n], strict=True)
        ]

    def _recency(self) -> np.ndarray:
        """Per indexed task, the factor on its similarity: 1 for the newest, exp(-1/decay) for the oldest.

        Tasks are taken to be indexed in the order they were done; teams, scopes and scales drift, so among
        equally similar tasks the recent ones are the better evidence."""
        return recency(len(self._ids), self.config.recency_decay)

    def _estimate_row(self, best: TopRows, chosen: float | None = None) -> Estimate:
        """``best``: the top rows by rank (similarity after recency), with their text similarity (shown as
        evidence) and rank; ``chosen``: the shrinkage (default: the configured or tuned one)."""
        chosen = self._shrinkage if chosen is None else chosen
        prior = float(np.median(self._points))
        scale = self.scale()
        neighbours = self._neighbours(best, 3)
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
                fallback=self.fallback,
            )
        nb = best.rows[: self.k]
        values, weights = self._points[nb], np.clip(best.ranks[: self.k], 0.0, None) + _EPS
        knn = weighted_median(values, weights)
        threshold = self.config.duplicate_similarity
        duplicate = threshold is not None and best.sims[0] >= threshold
        # A near-duplicate of a past task is strong evidence: its neighbourhood is taken as it is.
        shrinkage = 1.0 if duplicate else chosen
        raw = prior + shrinkage * (knn - prior)
        points = snap(raw, scale)
        q_low, q_high = self.config.range_quantiles
        low = min(points, snap(weighted_quantile(values, weights, q_low), scale))
        high = max(points, snap(weighted_quantile(values, weights, q_high), scale))
        spread = (high - low) / max(points, 1.0)
        closeness = float(np.clip(best.sims[:3].mean(), 0.0, 1.0))
        confidence = float(np.clip(closeness / (1.0 + spread), 0.0, 1.0))
        method = (
            f"tfidf-knn(k={self.k}) weighted median of a near-duplicate's neighbourhood, unshrunk"
            if duplicate
            else f"tfidf-knn(k={self.k}) weighted median, shrunk {chosen:.2f} toward history median"
        )
        if not duplicate and self._uses_check() and self.checked is not None and self.checked.fell_back:
            method += (
                f" (history check: the neighbours lost to the median on the newest history, "
                f"MAE ratio {self.checked.mean_ratio:.2f})"
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
            fallback=self.fallback,
        )

    def _method(self, text: str) -> str:
        return f"{text}; {self.fallback}" if self.fallback else text

    def _require_history(self) -> None:
        if not self._ids:
            raise ValueError("no past tasks indexed: add completed tasks with story points first")

    # ---- fitting -----------------------------------------------------------------------------------
    def fit(self, history: Sequence[PastTask], validation: Sequence[PastTask] = ()) -> StoryPointEstimator:
        """Index ``history``; tune on ``validation`` and/or index it too, as the configuration says.

        Validation tasks precede the tasks to estimate in time, so once they have served for tuning a team
        would have them in its history as well (``index_validation``).
        """
        self.add(history)
        if validation and self.config.tune_on_validation:
            self.tune(validation)
        if validation and self.config.index_validation:
            self.add(validation)
        return self

    # ---- tuning ------------------------------------------------------------------------------------
    def tune(self, validation: Sequence[PastTask]) -> TuningResult:
        """Choose k and shrinkage minimising MAE on held-out tasks (not indexed; never the test set)."""
        self._require_history()
        if not validation:
            raise ValueError("tuning needs at least one validation task")
        truth = np.array([t.points for t in validation], dtype=np.float64)
        return self._tune_with(self.similarities([(t.title, t.description) for t in validation]), truth)

    def _tune_with(self, sims: np.ndarray, truth: np.ndarray) -> TuningResult:
        n = len(self._ids)
        prior, scale = float(np.median(self._points)), self.scale()
        ks = sorted({min(k, n) for k in TUNE_K} | {self.k})
        sims = sims * self._recency()[None, :]
        order = np.argsort(-sims, axis=1, kind="stable")[:, : max(ks)]
        knn = {
            k: np.array(
                [
                    weighted_median(self._points[o[:k]], np.clip(r[o[:k]], 0, None) + _EPS)
                    for r, o in zip(sims, order, strict=True)
                ]
            )
            for k in ks
        }

        def mae(k: int, alpha: float) -> float:
            pred = np.array([snap(prior + alpha * (v - prior), scale) for v in knn[k]])
            return float(np.abs(pred - truth).mean())

        default_k, default_alpha = self.k, self._shrinkage
        default = mae(default_k, default_alpha)
        grid = sorted(
            itertools.product(ks, TUNE_SHRINKAGE),
            key=lambda ka: (mae(*ka), abs(ka[1] - default_alpha), abs(ka[0] - default_k)),
        )
        best_k, best_alpha = grid[0]
        best = mae(best_k, best_alpha)
        if best > default * (1 - TUNE_MARGIN):
            best_k, best_alpha, best = default_k, default_alpha, default
        self._k, self._shrinkage = best_k, best_alpha
        self.tuning = TuningResult(
            k=best_k,
            shrinkage=best_alpha,
            validation_mae=best,
            default_mae=default,
            prior_mae=float(np.abs(prior - truth).mean()),
            n_validation=int(truth.size),
        )
        return self.tuning

    def auto_tune(self, holdout_fraction: float = 0.2, min_holdout: int = 10) -> TuningResult | None:
        """Tune on the most recently indexed tasks, using the older ones as the index; no re-hashing."""
        n = len(self._ids)
        n_hold = int(n * holdout_fraction)
        if n_hold < min_holdout or n - n_hold < self.config.min_history:
            return None
        probe = self._copy_rows(slice(0, n - n_hold))
        probe._k, probe._shrinkage = self._k, self._shrinkage
        # the hold-out tasks' stored rows are reused: nothing is hashed again
        held_emb = self._emb[n - n_hold :] if self._cache is not None else None
        held = slice(n - n_hold, n)
        sims = probe._blend(self._word.tf_rows(held), self._char.tf_rows(held), held_emb)
        result = probe._tune_with(sims, self._points[n - n_hold :])
        self._k, self._shrinkage, self.tuning = probe._k, probe._shrinkage, result
        return result

    def _copy_rows(self, rows: slice) -> StoryPointEstimator:
        twin = StoryPointEstimator(self.config)
        twin._word, twin._char = self._rebuilt(self._word, rows), self._rebuilt(self._char, rows)
        twin._ids, twin._titles = self._ids[rows], self._titles[rows]
        twin._points = self._points[rows].copy()
        if self._cache is not None:
            twin._emb_store = self._emb[rows].copy()
        return twin

    def _blend(self, word: sp.csr_matrix, char: sp.csr_matrix, emb: np.ndarray | None = None) -> np.ndarray:
        """The full scan: exact similarity of each query row (tf rows) to every indexed task."""
        w = self.config.word_weight
        ngram = w * self._word.cosine(word) + (1 - w) * self._char.cosine(char)
        if emb is None:
            return ngram
        e = self.config.embedding_weight
        out: np.ndarray = (1 - e) * ngram + e * (emb @ self._emb.T).astype(np.float64)  # unit: dot = cosine
        return out

    # ---- persistence -------------------------------------------------------------------------------
    def save(self, directory: Path | str) -> Path:
        """Write the index (hashed rows, frequencies, metadata) so it can be loaded without re-hashing."""
        folder = Path(directory)
        folder.mkdir(parents=True, exist_ok=True)
        sp.save_npz(folder / "word.npz", self._word.tf_rows())
        sp.save_npz(folder / "char.npz", self._char.tf_rows())
        if self._cache is not None:
            np.save(folder / "embeddings.npy", self._emb)  # loading needs no re-encoding
        meta = {
            "format": 1,
            "config": self.config.model_dump(mode="json"),
            "k": self._k,
            "shrinkage": self._shrinkage,
            "tuning": self.tuning.model_dump(mode="json") if self.tuning else None,
            "ids": self._ids,
            "titles": self._titles,
            "points": self._points.tolist(),
        }
        (folder / "index.json").write_text(json.dumps(meta), encoding="utf-8")
        return folder

    @classmethod
    def load(cls, directory: Path | str) -> StoryPointEstimator:
        folder = Path(directory)
        meta_path = folder / "index.json"
        if not meta_path.is_file():
            raise FileNotFoundError(f"no estimator index at {folder} (index.json missing)")
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if meta.get("format") != 1:
            raise ValueError(f"{meta_path}: unsupported index format {meta.get('format')!r}")
        est = cls(EstimatorConfig.model_validate(meta["config"]))
        word, char = sp.load_npz(folder / "word.npz").tocsr(), sp.load_npz(folder / "char.npz").tocsr()
        n = len(meta["ids"])
        if word.shape[0] != n or char.shape[0] != n or len(meta["points"]) != n:
            raise ValueError(f"{folder}: index files disagree on the number of tasks")
        est._word.add(_counts_of(word, folder / "word.npz"))
        est._char.add(_counts_of(char, folder / "char.npz"))
        est._ids, est._titles = list(meta["ids"]), list(meta["titles"])
        est._points = np.array(meta["points"], dtype=np.float64)
        if est._cache is not None:
            emb = np.load(folder / "embeddings.npy")
            if emb.shape[0] != n:
                raise ValueError(f"{folder}: embeddings.npy does not match the number of tasks")
            est._emb_store = emb.astype(np.float32)
        est._k, est._shrinkage = meta["k"], float(meta["shrinkage"])
        est.tuning = TuningResult.model_validate(meta["tuning"]) if meta["tuning"] else None
        return est


def _counts_of(tf: sp.csr_matrix, path: Path) -> sp.csr_matrix:
    """The raw counts behind saved sublinear tf rows (1 + log(count)); exact, or the file is refused."""
    tf.sum_duplicates()
    counts = np.rint(np.exp(tf.data - 1.0))
    if not np.array_equal(sublinear(counts), tf.data):
        raise ValueError(f"{path}: not sublinear term frequencies of whole counts")
    return sp.csr_matrix((counts, tf.indices, tf.indptr), shape=tf.shape)
