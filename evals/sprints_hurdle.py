"""The two-part (hurdle) delivery model against the shipped candidates, for issue 22.

    python -m evals.sprints_hurdle --data ../shared/datasets [--projects JBoss,Spring] [--times 0,30]
        [--json out.json]

Same folds and protocols as `eval sprints` (10 blocks by sprintid; cv and forward). In every outer
fold every candidate is fitted once on the training blocks; the selection data are those of
tools/forecast/delivery_select.py (cv: two inner folds of the training blocks, fitted for every
candidate; forward: the earlier outer folds' own predictions). Two candidate sets are then selected
from on the same selection data, so the only difference between them is the hurdle variants:

- "shipped": the four shipped variants and the median of their predictions;
- "shipped + hurdle": the same plus the hurdle variants (tools/forecast/delivery_hurdle.py); the
  median stays that of the four shipped variants, so "shipped" is exactly what `eval sprints` ships.

Reported per project, time and protocol, as model NMAE / best naive NMAE (the IQR cancels): every
candidate's test ratio, both selections' test ratios and what they picked, every candidate's
selection-data ratio (its validation errors over the best naive baseline's on the same validation
rows, summed over the outer folds), and the P10-P90 band of the mixture hurdle variants: the share of
test sprints inside it (inclusive; a sprint that delivers nothing is inside when P10 is "nothing")
and its mean width over the IQR, beside the band of the training sprints' own 10th and 90th
percentiles of vel_diff (a naive band fitted on the same training data).
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from evals.datasets.sprints import read_tse_issues, read_tse_iterations
from evals.sprints import PROTOCOLS, TIMES, data_arguments, discover, listed
from tools.forecast.delivery import (
    DEFAULT_VARIANT,
    HURDLE_VARIANTS,
    VARIANTS,
    DeliveryModel,
    Variant,
    build_features,
    naive_predictions,
)
from tools.forecast.delivery_issues import IssueTable, issue_table
from tools.forecast.delivery_select import ENSEMBLE, ensemble, inner_splits, pick_lowest

FOLDS = 10
BAND = (0.1, 0.9)
SHIPPED = "shipped"
WITH_HURDLE = "shipped + hurdle"
NAIVE_BAND = "training P10-P90"
# The hurdle with the per-issue estimate costs four issue-model fits per fit: only with --issue-hurdle.
DEFAULT_CANDIDATES = (*VARIANTS, *HURDLE_VARIANTS[:2])


@dataclass
class Sprints:
    its: list[Any]
    x: np.ndarray
    names: list[str]
    y: np.ndarray
    boards: np.ndarray
    issues: IssueTable
    iqr: float


def load(source: Any, time: int) -> Sprints:
    its = sorted(read_tse_iterations(source.folder, source.stem, time), key=lambda r: (r.sprintid, r.boardid))
    issues = read_tse_issues(source.folder, source.stem, time)
    x, names = build_features(its, issues)
    y = np.asarray([r.vel_diff for r in its], dtype=float)
    q1, q3 = np.percentile(y, [25, 75])
    boards = np.asarray([r.boardid for r in its])
    return Sprints(its, x, names, y, boards, issue_table(its, issues), float(q3 - q1) or 1.0)


def _has_band(v: Variant) -> bool:
    return v.target == "hurdle" and v.combine == "mixture"


Fitted = tuple[np.ndarray, np.ndarray | None, DeliveryModel | None, IssueTable | None]


def fit_predict(s: Sprints, v: Variant, fit: np.ndarray, test: np.ndarray, seed: int) -> Fitted:
    """One candidate fitted on `fit`: its point forecasts for `test`, its P10/P90 when it has a band,
    and the model with the test sprints' issues (to read other forecasts off the same fit)."""
    uses = v.issue_share or v.target == "issues"
    i_fit, i_test = (s.issues.take(fit), s.issues.take(test)) if uses else (None, None)
    m = DeliveryModel(seed, v).fit(s.x[fit], s.y[fit], s.names, s.boards[fit], i_fit)
    point = m.predict(s.x[test], s.boards[test], i_test)
    band = m.predict_quantiles(s.x[test], BAND, s.boards[test], i_test) if _has_band(v) else None
    return point, band, m, i_test


def _twin(v: Variant, variants: Sequence[Variant]) -> Variant | None:
    """The mixture variant that differs from threshold variant `v` only in how it combines."""
    if v.target != "hurdle" or v.combine != "threshold":
        return None
    want = v.model_copy(update={"combine": "mixture"}).model_dump(exclude={"name"})
    return next((w for w in variants if w.model_dump(exclude={"name"}) == want), None)


def _points(
    s: Sprints, variants: Sequence[Variant], fit: np.ndarray, test: np.ndarray, seed: int
) -> dict[str, Fitted]:
    """Every candidate's forecasts; a threshold hurdle is read off its mixture twin's fit (the same
    classifier and G's median: one fit per fold fewer on the shared machine)."""
    out: dict[str, Fitted] = {}
    for v in variants:
        if _twin(v, variants) is None:
            out[v.name] = fit_predict(s, v, fit, test, seed)
    for v in variants:
        twin = _twin(v, variants)
        if twin is not None:
            _, _, model, i_test = out[twin.name]
            assert model is not None
            point = model.predict(s.x[test], s.boards[test], i_test, combine="threshold")
            out[v.name] = (point, None, None, None)
    out = {v.name: out[v.name] for v in variants}
    shipped = [out[v.name][0] for v in variants if v in VARIANTS]
    if len(shipped) > 1:
        out[ENSEMBLE] = (ensemble(shipped), None, None, None)
    return out


@dataclass
class Tally:
    """Absolute errors per candidate (test and selection data) and the bands, over the outer folds."""

    test: dict[str, list[np.ndarray]] = field(default_factory=dict)
    naive: dict[str, list[np.ndarray]] = field(default_factory=dict)
    val: dict[str, list[np.ndarray]] = field(default_factory=dict)
    val_naive: dict[str, list[np.ndarray]] = field(default_factory=dict)
    picked: dict[str, dict[str, int]] = field(default_factory=dict)
    inside: dict[str, list[np.ndarray]] = field(default_factory=dict)
    width: dict[str, list[np.ndarray]] = field(default_factory=dict)

    def add(self, to: dict[str, list[np.ndarray]], key: str, value: np.ndarray) -> None:
        to.setdefault(key, []).append(value)


def _band(t: Tally, name: str, lo: np.ndarray, hi: np.ndarray, y: np.ndarray) -> None:
    t.add(t.inside, name, (lo <= y) & (y <= hi))
    t.add(t.width, name, hi - lo)


def evaluate(s: Sprints, protocol: str, variants: Sequence[Variant], seed: int = 0) -> dict[str, Any]:
    """One project at one time under one protocol (see the module doc)."""
    blocks = [b for b in np.array_split(np.arange(len(s.y)), FOLDS) if len(b)]
    shipped_names = [v.name for v in variants if v in VARIANTS] + [ENSEMBLE]
    all_names = [v.name for v in variants] + [ENSEMBLE]
    sets = {SHIPPED: shipped_names, WITH_HURDLE: all_names}
    t = Tally()
    fallback = DEFAULT_VARIANT.name if DEFAULT_VARIANT in variants else variants[0].name
    past: dict[str, list[np.ndarray]] = {}
    model: dict[str, list[np.ndarray]] = {k: [] for k in sets}
    for k, test in enumerate(blocks):
        if protocol == "forward" and k == 0:
            continue
        train_blocks = [b for j, b in enumerate(blocks) if j != k] if protocol == "cv" else blocks[:k]
        train = np.sort(np.concatenate(train_blocks))
        if protocol == "cv":
            val: dict[str, list[np.ndarray]] = {}
            for fit, rows in inner_splits("cv", train_blocks):
                for name, (p, *_) in _points(s, variants, fit, rows, seed).items():
                    t.add(val, name, np.abs(p - s.y[rows]))
                for name, p in _naive(s, fit, rows).items():
                    t.add(t.val_naive, name, np.abs(p - s.y[rows]))
        else:
            val = {n: list(e) for n, e in past.items()}
        for name, errs in val.items():
            # cv: this fold's inner errors; forward: the newest earlier fold (each counted once)
            t.val.setdefault(name, []).extend(errs if protocol == "cv" else errs[-1:])
        outer = _points(s, variants, train, test, seed)
        y = s.y[test]
        for key, names in sets.items():
            pick = pick_lowest({n: val[n] for n in names if n in val}, fallback).chosen
            t.picked.setdefault(key, {}).setdefault(pick, 0)
            t.picked[key][pick] += 1
            model[key].append(outer[pick][0])
            t.add(t.test, key, np.abs(outer[pick][0] - y))
        for name, (p, band, *_) in outer.items():
            t.add(t.test, name, np.abs(p - y))
            t.add(past, name, np.abs(p - y))
            if band is not None:
                _band(t, name, band[:, 0], band[:, 1], y)
        naive = _naive(s, train, test)
        for name, p in naive.items():
            t.add(t.naive, name, np.abs(p - y))
            if protocol == "forward":
                t.add(t.val_naive, name, np.abs(p - y))
        lo, hi = np.percentile(s.y[train], [100 * BAND[0], 100 * BAND[1]])
        _band(t, NAIVE_BAND, np.full(len(y), lo), np.full(len(y), hi), y)
    if protocol == "forward":  # the last fold's errors selected nothing: drop them from the tally
        for errs in t.val_naive.values():
            errs.pop()
    return _summarise(t, s.iqr)


def _naive(s: Sprints, fit: np.ndarray, test: np.ndarray) -> dict[str, np.ndarray]:
    return naive_predictions([s.its[i] for i in fit], [s.its[i] for i in test], s.its)


def _ratio(errors: list[np.ndarray], naive: dict[str, list[np.ndarray]]) -> float | None:
    best = min(float(np.mean(np.concatenate(e))) for e in naive.values() if e)
    return round(float(np.mean(np.concatenate(errors))) / best, 3) if best > 0 and errors else None


def _summarise(t: Tally, iqr: float) -> dict[str, Any]:
    return {
        "test": {k: _ratio(e, t.naive) for k, e in t.test.items()},
        "selection": {k: _ratio(e, t.val_naive) for k, e in t.val.items() if e} if t.val_naive else {},
        "picked": t.picked,
        "band": {
            k: {
                "inside": round(float(np.mean(np.concatenate(v))), 3),
                "width_over_iqr": round(float(np.mean(np.concatenate(t.width[k]))) / iqr, 3),
            }
            for k, v in t.inside.items()
        },
    }


def run(
    data: Path,
    projects: Sequence[str] | None,
    times: Sequence[int] = TIMES,
    *,
    variants: Sequence[Variant] = DEFAULT_CANDIDATES,
    seed: int = 0,
) -> dict[str, Any]:
    import sklearn.ensemble  # noqa: F401  # loaded first: threadpoolctl limits only loaded libraries
    from threadpoolctl import threadpool_limits

    tse, _ = discover(data, projects)
    rows: list[dict[str, Any]] = []
    with threadpool_limits(limits=1):  # many small fits: one thread each (see evals/sprints.py)
        for source in tse:
            for time in times:
                s = load(source, time)
                for protocol in PROTOCOLS:
                    r = evaluate(s, protocol, variants, seed)
                    rows.append({"project": source.project, "time": time, "protocol": protocol, **r})
    return {"rows": rows, "means": means(rows)}


def means(rows: Sequence[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Per protocol and time: the mean over projects of every test ratio."""
    out: dict[str, dict[str, float]] = {}
    for r in rows:
        key = f"{r['protocol']}_{r['time']}"
        out.setdefault(key, {})
    for key in out:
        sel = [r for r in rows if f"{r['protocol']}_{r['time']}" == key]
        names = [n for n in sel[0]["test"] if all(x["test"].get(n) is not None for x in sel)]
        out[key] = {n: round(statistics.fmean(x["test"][n] for x in sel), 3) for n in names}
    return out


def format_table(result: dict[str, Any]) -> str:
    m = result["means"]
    keys = list(m)
    names = list(next(iter(m.values()))) if m else []
    lines = ["| candidate | " + " | ".join(k.replace("_", " ") + "%" for k in keys) + " |"]
    lines.append("|---|" + "---|" * len(keys))
    lines += [f"| {n} | " + " | ".join(f"{m[k][n]:.3f}" for k in keys) + " |" for n in names]
    lines.append("")
    for r in result["rows"]:
        head = f"{r['project']} {r['time']}% {r['protocol']}"
        lines.append(f"{head} test: " + ", ".join(f"{k} {v}" for k, v in r["test"].items()))
        lines.append(f"{head} selection data: " + ", ".join(f"{k} {v}" for k, v in r["selection"].items()))
        for key, picks in r["picked"].items():
            lines.append(f"{head} {key} picked: " + ", ".join(f"{k} x{n}" for k, n in picks.items()))
        for key, b in r["band"].items():
            lines.append(f"{head} band {key}: inside {b['inside']:.1%}, width/IQR {b['width_over_iqr']}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    data_arguments(ap)
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--issue-hurdle", action="store_true", help="also the hurdle with issue estimates")
    args = ap.parse_args(argv)
    chosen = listed(args.projects) or None
    times = [int(t) for t in listed(args.times)]
    variants = (*VARIANTS, *HURDLE_VARIANTS) if args.issue_hurdle else DEFAULT_CANDIDATES
    result = run(args.data, chosen, times, variants=variants)
    print(format_table(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
