"""Two more sprint-delivery ideas measured for issue 22: pooling across projects, and shrinkage.

    python -m evals.sprints_pooled --data ../shared/datasets [--projects JBoss,Spring] [--times 0,30]

Both start from the "ratio target" variant (tools/forecast/delivery.py) on the same folds as
`eval sprints` (10 blocks by sprintid; cv and forward) and report model NMAE / best naive NMAE:

- "sprint and history only": the variant without the issue columns (their vocabulary differs by
  project, so pooled training needs the columns every project has: the sprint's state and its
  board's history, all scale-free under the ratio target).
- "pooled across projects": the same columns, trained on this project's training sprints plus the
  other projects' sprints. TSE2017 rows are not dated and sprintids of different Jira servers are not
  comparable, so for forward chaining the other projects contribute the same leading share of their
  own sprints (blocks 1..k-1 of 10) as the test project does: an approximation of "before", said so.
- "median of the three": the median of the three predictions above.
- "shrunk toward the best naive": w x model + (1 - w) x a naive baseline, the baseline and w in
  {0, .25, .5, .75, 1} chosen on training data only (cv: two inner folds; forward: the earlier
  folds' predictions).
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from evals.datasets.sprints import read_tse_issues, read_tse_iterations
from evals.sprints import PROTOCOLS, data_arguments, discover, listed
from tools.forecast.delivery import (
    ITERATION_FIELDS,
    DeliveryModel,
    Variant,
    build_features,
    naive_predictions,
)
from tools.forecast.delivery_history import HISTORY_FIELDS, SEQUENCE_FIELDS

VARIANT = Variant(name="ratio target", target="ratio")
DERIVED = ("committed", "done_share", "todo_share", "added_share", "points_per_member")
COMMON = (*ITERATION_FIELDS, *DERIVED, *HISTORY_FIELDS, *SEQUENCE_FIELDS)
WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)
FOLDS = 10
CANDIDATES = (
    "ratio target",
    "sprint and history only",
    "pooled across projects",
    "median of the three",
    "shrunk toward the best naive",
)


@dataclass
class Project:
    its: list[Any]
    x: np.ndarray
    names: list[str]
    common: np.ndarray
    y: np.ndarray
    blocks: list[np.ndarray]


def load(source: Any, time: int) -> Project:
    its = sorted(read_tse_iterations(source.folder, source.stem, time), key=lambda r: (r.sprintid, r.boardid))
    x, names = build_features(its, read_tse_issues(source.folder, source.stem, time))
    y = np.asarray([r.vel_diff for r in its], dtype=float)
    common = x[:, [names.index(n) for n in COMMON]]
    return Project(its, x, names, common, y, np.array_split(np.arange(len(y)), FOLDS))


def _fit_predict(x: np.ndarray, y: np.ndarray, names: Sequence[str], test: np.ndarray) -> np.ndarray:
    return DeliveryModel(0, VARIANT).fit(x, y, names).predict(test)


def _naive(p: Project, fit: np.ndarray, test: np.ndarray) -> dict[str, np.ndarray]:
    return naive_predictions([p.its[i] for i in fit], [p.its[i] for i in test], p.its)


Validation = list[tuple[np.ndarray, dict[str, np.ndarray], np.ndarray]]  # (model, naive, actual)


def pick_shrinkage(validation: Validation) -> tuple[str, float]:
    """The naive baseline and model weight with the lowest absolute error on validation data."""
    if not validation:
        return "median", 1.0
    options = [(n, w) for n in validation[0][1] for w in WEIGHTS]

    def error(option: tuple[str, float]) -> float:
        n, w = option
        return sum(float(np.abs(w * m + (1 - w) * nv[n] - y).sum()) for m, nv, y in validation)

    return min(options, key=error)


def _train(protocol: str, p: Project, k: int) -> np.ndarray:
    if protocol == "cv":
        return np.setdiff1d(np.arange(len(p.y)), p.blocks[k])
    return np.concatenate(p.blocks[:k])


def evaluate(projects: dict[str, Project], name: str, protocol: str) -> dict[str, float]:
    """Model NMAE / best naive NMAE (the IQR cancels) of every candidate on one project."""
    p = projects[name]
    errors: dict[str, list[np.ndarray]] = {c: [] for c in CANDIDATES}
    naive_errors: dict[str, list[np.ndarray]] = {}
    past: Validation = []
    for k, test in enumerate(p.blocks):
        if protocol == "forward" and k == 0:
            continue
        train = _train(protocol, p, k)
        own = _fit_predict(p.x[train], p.y[train], p.names, p.x[test])
        common = _fit_predict(p.common[train], p.y[train], COMMON, p.common[test])
        xs, ys = [p.common[train]], [p.y[train]]
        for other, o in projects.items():
            if other != name:
                rows = np.arange(len(o.y)) if protocol == "cv" else np.concatenate(o.blocks[:k])
                xs.append(o.common[rows])
                ys.append(o.y[rows])
        pooled = _fit_predict(np.vstack(xs), np.concatenate(ys), COMMON, p.common[test])
        naive = _naive(p, train, test)
        if protocol == "cv":
            validation: Validation = []
            for fold in np.array_split(train, 2):
                fit = np.setdiff1d(train, fold)
                m = _fit_predict(p.x[fit], p.y[fit], p.names, p.x[fold])
                validation.append((m, _naive(p, fit, fold), p.y[fold]))
        else:
            validation = past
        base, w = pick_shrinkage(validation)
        preds = {
            "ratio target": own,
            "sprint and history only": common,
            "pooled across projects": pooled,
            "median of the three": np.median(np.vstack([own, common, pooled]), axis=0),
            "shrunk toward the best naive": w * own + (1 - w) * naive[base],
        }
        for c, pred in preds.items():
            errors[c].append(np.abs(pred - p.y[test]))
        for b, pred in naive.items():
            naive_errors.setdefault(b, []).append(np.abs(pred - p.y[test]))
        past.append((own, naive, p.y[test]))
    best = min(float(np.mean(np.concatenate(e))) for e in naive_errors.values())
    return {c: round(float(np.mean(np.concatenate(e))) / best, 3) for c, e in errors.items()}


def run(data: Path, projects: Sequence[str] | None, times: Sequence[int]) -> dict[str, Any]:
    import sklearn.ensemble  # noqa: F401  # loaded first: threadpoolctl limits only loaded libraries
    from threadpoolctl import threadpool_limits

    tse, _ = discover(data, projects)
    out: dict[str, Any] = {}
    with threadpool_limits(limits=1):  # many small fits: one thread each (see evals/sprints.py)
        for t in times:
            loaded = {s.project: load(s, t) for s in tse}
            for protocol in PROTOCOLS:
                per = {name: evaluate(loaded, name, protocol) for name in loaded}
                mean = {c: round(statistics.fmean(r[c] for r in per.values()), 3) for c in CANDIDATES}
                out[f"{protocol}_{t}"] = {"projects": per, "mean": mean}
    return out


def format_table(result: dict[str, Any]) -> str:
    keys = list(result)
    lines = ["| variant | " + " | ".join(k.replace("_", " ") + "%" for k in keys) + " |"]
    lines.append("|---|" + "---|" * len(keys))
    for c in CANDIDATES:
        lines.append(f"| {c} | " + " | ".join(f"{result[k]['mean'][c]:.3f}" for k in keys) + " |")
    lines.append("")
    for k in keys:
        for name, r in result[k]["projects"].items():
            lines.append(f"{k} {name}: " + ", ".join(f"{c} {v:.3f}" for c, v in r.items()))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    data_arguments(ap)
    args = ap.parse_args(argv)
    chosen = listed(args.projects) or None
    times = [int(t) for t in listed(args.times)]
    print(format_table(run(args.data, chosen, times)))


if __name__ == "__main__":
    main()
