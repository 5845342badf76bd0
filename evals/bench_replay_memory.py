"""Memory of ``eval replay`` sprint by sprint (issue 23): is it flat across sprints?

    python -m evals.bench_replay_memory --data ../shared/datasets/sprints [--project SpringXD]
                                        [--sprints 1-20] [--out DIR] [--former]

Runs the ordinary replay (evals/replay, unchanged) and, after each sprint it reports, prints the process's
resident memory (VmRSS), its peak so far (VmHWM), and what the triage estimator cache holds (indexes and
bytes). Flat means the resident memory stops growing once the first sprints have loaded what every sprint
uses (models, the embedding cache). ``--former`` runs the same replay with the former estimator index
(evals/bench_estimation.py, FormerEstimator) in the triage cache, bounded by projects only as it was,
as the reference.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import tracemalloc
from collections.abc import Sequence
from pathlib import Path

from agents.triage.index import ESTIMATOR_CACHE
from evals.replay.run import run_replays


def _status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _frames(traceback: tracemalloc.Traceback) -> str:
    return " <- ".join(
        f"{f.filename.split('/work/main/')[-1]}:{f.lineno}" for f in reversed(list(traceback)[-6:])
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", required=True, type=Path)
    parser.add_argument("--project", default=None)
    parser.add_argument("--sprints", default=None, help="a selection as eval replay takes it, e.g. 1-20")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--former", action="store_true", help="the former estimator index (reference)")
    parser.add_argument(
        "--trace", action="store_true", help="print where live memory was allocated at the end"
    )
    args = parser.parse_args(argv)
    if args.trace:
        tracemalloc.start(8)
    if args.former:
        import agents.triage.index as triage_index
        from evals.bench_estimation import FormerEstimator

        triage_index.StoryPointEstimator = FormerEstimator  # type: ignore[attr-defined]
        triage_index.MAX_CACHED_BYTES = 2**62  # the former cache was bounded by projects only
    start = time.perf_counter()
    rows: list[tuple[str, float, float, int, float]] = []
    early: list[tracemalloc.Snapshot] = []  # after the second sprint: what grows after it

    def progress(message: str) -> None:
        cached = len(ESTIMATOR_CACHE._entries)
        rows.append((message, _status_mb("VmRSS"), _status_mb("VmHWM"), cached, ESTIMATOR_CACHE.nbytes / 1e6))
        if args.trace and len(rows) == 2:
            early.append(tracemalloc.take_snapshot())
        print(
            f"{time.perf_counter() - start:7.1f}s  RSS {rows[-1][1]:7.0f} MB  peak {rows[-1][2]:7.0f} MB  "
            f"cached indexes {cached:3d} ({rows[-1][4]:.1f} MB)  {message}",
            flush=True,
        )

    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp)
        run_replays(args.data, out_dir=out, project=args.project, selection=args.sprints, progress=progress)
    if args.trace:
        late = tracemalloc.take_snapshot()
        print("live memory at the end, and its growth since the second sprint, by where it was allocated:")
        for stat in late.statistics("traceback")[:12]:
            print(f"{stat.size / 1e6:8.1f} MB  {stat.count:8d} blocks  {_frames(stat.traceback)}")
        if early:
            print("growth since the second sprint:")
            for diff in late.compare_to(early[0], "traceback")[:15]:
                print(
                    f"{diff.size_diff / 1e6:+8.1f} MB  {diff.count_diff:+8d} blocks  "
                    f"{_frames(diff.traceback)}"
                )
    if rows:
        half = rows[len(rows) // 2]
        print(
            f"RSS at the middle sprint {half[1]:.0f} MB, at the end {rows[-1][1]:.0f} MB; "
            f"peak {rows[-1][2]:.0f} MB; estimator cache at the end {rows[-1][4]:.1f} MB"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
