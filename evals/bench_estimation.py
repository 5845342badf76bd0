"""Story-point estimator cost: index 5,000 past tasks, add tasks incrementally, estimate new ones.

    python -m evals.bench_estimation [--data DIR] [--tasks 5000] [--queries 50] [--seed 1]

With --data (the storypoints folder or the datasets root) the texts are real Jira issues pooled from all
projects; otherwise synthetic texts. For each configuration: first index of N tasks (for ``embeddings``
this includes encoding every text once, into a private temporary cache), indexing cost per task, a full
re-index (n-grams re-hashed, sentence vectors from the cache), adding one task to an N-task index,
estimating one new task against the N-task index (target < 200 ms; for ``embeddings`` this includes
encoding the new text), and for a tuning configuration the tuning step (most recent 20% held out).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from collections.abc import Sequence

from rich.console import Console
from rich.table import Table

from tools.estimation import CONFIGS, PastTask, StoryPointEstimator
from tools.estimation.embeddings import CACHE_ENV, INSTALL_HINT, shared_cache
from tools.estimation.embeddings import available as embeddings_available

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


def synthetic_tasks(n: int, seed: int) -> list[PastTask]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        pts = rng.choice(POINTS)
        title = " ".join(rng.choices(WORDS, k=rng.randint(4, 10)))
        body = " ".join(rng.choices(WORDS, k=rng.randint(10, 40 + 20 * pts)))
        out.append(PastTask(id=f"T-{i}", title=title, description=body, points=pts))
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


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def bench_config(
    name: str, tasks: Sequence[PastTask], queries: Sequence[PastTask], extra: Sequence[PastTask]
) -> dict[str, str]:
    config = CONFIGS[name]
    est = StoryPointEstimator(config)
    t0 = time.perf_counter()
    est.add(tasks)
    index_s = time.perf_counter() - t0
    # a full re-index: n-gram rows are re-hashed, sentence vectors come from the cache (encoded once)
    t0 = time.perf_counter()
    StoryPointEstimator(config).add(tasks)
    reindex_s = time.perf_counter() - t0
    tune_s = None
    if config.tune_on_validation:
        t0 = time.perf_counter()
        est.auto_tune()
        tune_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    est.estimate(queries[0].title, queries[0].description)  # first call builds the IDF norms once
    first_s = time.perf_counter() - t0
    latencies = []
    for q in queries[1:]:
        t0 = time.perf_counter()
        est.estimate(q.title, q.description)
        latencies.append(time.perf_counter() - t0)
    add_latencies, after_add = [], []
    for task in extra:
        t0 = time.perf_counter()
        est.add([task])
        add_latencies.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        est.estimate(queries[0].title, queries[0].description)
        after_add.append(time.perf_counter() - t0)
    latencies.sort()
    return {
        "config": name,
        "first index (s)": f"{index_s:.2f}",
        "per task (ms)": _ms(index_s / len(tasks)),
        "full re-index (s)": f"{reindex_s:.2f}",
        "add 1 task (ms)": _ms(statistics.median(add_latencies)),
        "first estimate (ms)": _ms(first_s),
        "estimate p50 (ms)": _ms(statistics.median(latencies)),
        "estimate p95 (ms)": _ms(latencies[int(0.95 * (len(latencies) - 1))]),
        "estimate after add (ms)": _ms(statistics.median(after_add)),
        "tune (s)": "-" if tune_s is None else f"{tune_s:.2f}",
        "target <200 ms": "ok" if statistics.median(latencies) < 0.2 else "MISSED",
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", default=None)
    parser.add_argument("--tasks", type=int, default=5000)
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--adds", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--configs", default=",".join(CONFIGS))
    args = parser.parse_args(argv)
    total = args.tasks + args.queries + args.adds
    pool = real_tasks(args.data, total, args.seed) if args.data else synthetic_tasks(total, args.seed)
    tasks, queries = pool[: args.tasks], pool[args.tasks : args.tasks + args.queries]
    extra = pool[args.tasks + args.queries :]
    names = [c.strip() for c in args.configs.split(",") if c.strip()]
    if not embeddings_available():
        skipped = [n for n in names if CONFIGS[n].embeddings]
        names = [n for n in names if n not in skipped]
        if skipped:
            print(f"skipped {', '.join(skipped)}: {INSTALL_HINT}")
    # a private, empty embedding cache: the first index pays the encoding, as a new install would
    with tempfile.TemporaryDirectory() as cache_dir:
        os.environ[CACHE_ENV] = cache_dir
        shared_cache.cache_clear()
        rows = [bench_config(n, tasks, queries, extra) for n in names]
        shared_cache.cache_clear()
    source = "real Jira texts" if args.data else "synthetic texts"
    table = Table(title=f"Story-point estimator cost — {args.tasks} indexed tasks, {source}")
    for column in rows[0]:
        table.add_column(column, justify="left" if column == "config" else "right")
    for row in rows:
        table.add_row(*row.values())
    Console(width=200).print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
