"""How far can in-sprint information take the sprint-delivery model? A ceiling check for issue 22.

    python -m evals.sprints_ceiling --data ../shared/datasets [--projects JBoss,Spring] [--json out.json]

The goal of issue 22 is model NMAE / best naive NMAE <= 0.55 (cv) and <= 0.70 (forward) at 0% and
30% of the sprint. This eval asks whether any model of this family could get there on this data: it
fits the shipped default variant twice on the same folds (tools/forecast/delivery_backtest.py),
once with what is known at the prediction time T ("known at T") and once with, in addition, the
sprint's own state at 50% and 80% of its duration ("oracle"), read from the later iteration files
(scope added/removed, to-do/in-progress/done points by then). The oracle uses the future, so it is
no candidate for the product: it bounds what better use of the information known at T can give,
because at T nothing can be known about the sprint that its state at 80% does not already show
better. When even the oracle stays above the goal, the goal is out of reach for models that learn
the same way without leaking.

Also reported, per project and time: the share of the median baseline's absolute error that comes
from the worst 10% of sprints (a heavy tail that no model of the sprint's state predicts well) and
the share of sprints that delivered nothing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel

from evals.datasets.sprints import TseSource, read_tse_issues, read_tse_iterations
from evals.sprints import GOAL_RATIO, PROTOCOLS, TIMES, data_arguments, discover, listed, pick_variants
from tools.errors import UserError
from tools.forecast.delivery import DEFAULT_VARIANT, ITERATION_FIELDS, Variant, build_features
from tools.forecast.delivery_backtest import backtest

FUTURE_TIMES = (50, 80)
# The sprint's own state columns of build_features (iteration fields and the five derived ones).
STATE_WIDTH = len(ITERATION_FIELDS) + 5
TAIL = 0.10


class CeilingRow(BaseModel):
    project: str
    time: int
    protocol: str
    known: float  # model NMAE / best naive NMAE, features known at T
    oracle: float  # the same with the sprint's state at 50% and 80% added (future information)
    tail_share: float  # share of the median baseline's absolute error from the worst TAIL of sprints
    nothing_delivered: float  # share of sprints that delivered 0 points


def _key(row: Any) -> tuple[int, int]:
    return (row.sprintid, row.boardid)


def future_state(source: TseSource, order: Sequence[tuple[int, int]]) -> tuple[np.ndarray, list[str]]:
    """The sprint's state at each later prediction time, aligned to `order` (sprintid, boardid)."""
    blocks, names = [], []
    for t in FUTURE_TIMES:
        rows = sorted(read_tse_iterations(source.folder, source.stem, t), key=_key)
        if [_key(r) for r in rows] != list(order):
            raise UserError(f"{source.project}: the {t}% file lists other sprints than the earlier ones")
        x, cols = build_features(rows, [])
        blocks.append(x[:, :STATE_WIDTH])
        names += [f"at{t}_{c}" for c in cols[:STATE_WIDTH]]
    return np.hstack(blocks), names


def _ratio(pred: np.ndarray, baselines: dict[str, np.ndarray], y: np.ndarray) -> float:
    best = min(float(np.mean(np.abs(b - y))) for b in baselines.values())
    return round(float(np.mean(np.abs(pred - y))) / best, 3) if best > 0 else float("nan")


def _tail_share(y: np.ndarray) -> float:
    dev = np.sort(np.abs(y - np.median(y)))[::-1]
    total = float(dev.sum())
    return round(float(dev[: max(1, int(len(dev) * TAIL))].sum()) / total, 3) if total > 0 else 0.0


def evaluate(
    source: TseSource, time: int, *, seed: int = 0, variant: Variant = DEFAULT_VARIANT
) -> list[CeilingRow]:
    its = sorted(read_tse_iterations(source.folder, source.stem, time), key=_key)
    x, names = build_features(its, read_tse_issues(source.folder, source.stem, time))
    extra, extra_names = future_state(source, [_key(r) for r in its])
    y = np.asarray([r.vel_diff for r in its], dtype=float)
    delivered = np.asarray([r.delivered for r in its], dtype=float)
    rows = []
    for protocol in PROTOCOLS:
        known = backtest(x, y, names, its, protocol, seed=seed, variants=(variant,))  # type: ignore[arg-type]
        oracle = backtest(
            np.hstack([x, extra]),
            y,
            [*names, *extra_names],
            its,
            protocol,  # type: ignore[arg-type]
            seed=seed,
            variants=(variant,),
        )
        yt = y[known.tested]
        rows.append(
            CeilingRow(
                project=source.project,
                time=time,
                protocol=protocol,
                known=_ratio(known.model, known.baselines, yt),
                oracle=_ratio(oracle.model, oracle.baselines, yt),
                tail_share=_tail_share(y),
                nothing_delivered=round(float(np.mean(delivered == 0)), 3),
            )
        )
    return rows


def run(
    data: Path, projects: Sequence[str] | None = None, *, seed: int = 0, variant: Variant = DEFAULT_VARIANT
) -> dict[str, Any]:
    import sklearn.ensemble  # noqa: F401  # loaded first: threadpoolctl limits only loaded libraries
    from threadpoolctl import threadpool_limits

    tse, _ = discover(data, projects)
    ready = [
        s for s in tse if all((s.folder / f"{s.stem}_iteration_{t}.csv").is_file() for t in FUTURE_TIMES)
    ]
    with threadpool_limits(limits=1):  # many small fits: one thread each (see evals/sprints.py)
        rows = [row for s in ready for t in TIMES for row in evaluate(s, t, seed=seed, variant=variant)]
    means: dict[str, dict[str, float]] = {}
    for protocol in PROTOCOLS:
        for t in TIMES:
            sel = [r for r in rows if r.protocol == protocol and r.time == t]
            if sel:
                means[f"{protocol}_{t}"] = {
                    "known": round(statistics.fmean(r.known for r in sel), 3),
                    "oracle": round(statistics.fmean(r.oracle for r in sel), 3),
                    "goal": GOAL_RATIO[protocol],
                }
    return {
        "data": str(data),
        "variant": variant.name,
        "skipped": [s.project for s in tse if s not in ready],
        "rows": [r.model_dump() for r in rows],
        "means": means,
    }


def format_table(summary: dict[str, Any]) -> str:
    lines = [
        f"Ceiling of the sprint-delivery model ({summary['variant']}): model NMAE / best naive NMAE",
        "known = features known at T; oracle = plus the sprint's own state at 50% and 80% (future)",
        "",
        f"{'project':<9}{'T':>4}  {'protocol':<8}{'known':>7}{'oracle':>8}{'goal':>6}"
        f"{'tail10%':>9}{'nothing':>9}",
    ]
    for r in summary["rows"]:
        lines.append(
            f"{r['project']:<9}{r['time']:>3}%  {r['protocol']:<8}{r['known']:>7.3f}{r['oracle']:>8.3f}"
            f"{GOAL_RATIO[r['protocol']]:>6}{r['tail_share']:>9.2f}{r['nothing_delivered']:>9.2f}"
        )
    lines.append("")
    for key, m in summary["means"].items():
        protocol, t = key.split("_")
        lines.append(
            f"mean {protocol} {t}%: known {m['known']:.3f}, oracle {m['oracle']:.3f} (goal <= {m['goal']})"
        )
    if summary["skipped"]:
        lines.append(f"skipped (no 50%/80% files): {', '.join(summary['skipped'])}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    data_arguments(ap, times=False)
    ap.add_argument(
        "--variant", default=DEFAULT_VARIANT.name, help="the variant to fit (eval sprints --variants)"
    )
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    chosen = listed(args.projects) or None
    try:
        (variant,) = pick_variants(args.variant)[:1]
        summary = run(args.data, chosen, variant=variant)
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        raise SystemExit(2) from None
    print(format_table(summary))
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
