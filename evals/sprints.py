"""Eval: the sprint-delivery model on TSE2017 and forecast calibration on Koralage Spring XD.

    python -m evals.sprints --data ../shared/datasets [--projects JBoss,Spring] [--json out.json]

TSE2017 (Choetkiertikul et al. 2017), per project and prediction time (0% and 30% of the sprint):
target vel_diff (delivered minus committed); NMAE = MAE / IQR of vel_diff over the project's
sprints at that time (the paper's normaliser: IQR at 30% JBoss 4, JIRA 3, MongoDB 5, Spring 32).
Sprints are sorted by sprintid (the README's time proxy). Two protocols:
- cv: 10 contiguous folds over the sorted sprints (the paper's protocol); train on the other nine.
- forward: the same 10 blocks; block k is predicted by a model trained on blocks 1..k-1 only.
The model's hyper-parameters are fixed a priori (tools/forecast/delivery.py); nothing is tuned on
test folds. Baselines (zero, mean, median, board median, last sprint) are fitted on the same
training folds. The link file cannot be joined to sprints (issue rows carry no key), so link counts
come from the issue rows' own no_issuelink / no_blocking / no_blockedby.

Spring XD (Koralage 2020): rolling origin over sprints ordered by start date; each sprint's
velocity (completed points) is forecast from the sprints before it (from the 4th sprint on, so
every forecast rests on at least three); reports the share inside the P10-P90 band (target 75-85%),
the P50's MAE and the naive last-sprint baseline's MAE.
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel

from evals.datasets.sprints import load_koralage, load_tse2017_issues, load_tse2017_iterations
from tools.forecast.delivery import DeliveryModel, build_features, naive_predictions
from tools.forecast.montecarlo import MIN_SPRINTS, velocity_forecast

DEV_PROJECTS = ("JBoss", "JIRA", "MongoDB", "Spring")
TIMES = (0, 30)
FOLDS = 10
PAPER_IQR_30 = {"Apache": 15, "JBoss": 4, "JIRA": 3, "MongoDB": 5, "Spring": 32}
ANCHORS = {"best_model_30": 0.349, "best_model_0": 0.390, "best_naive_30": 0.702, "iteration_only": 0.581}
BASELINES = ("zero", "mean", "median", "board median", "last sprint")


class ProtocolScore(BaseModel):
    model: float
    baselines: dict[str, float]
    model_mae: float
    tested: int

    @property
    def beats_all(self) -> bool:
        return all(self.model < v for v in self.baselines.values())


class ProjectTime(BaseModel):
    project: str
    time: int
    sprints: int
    iqr: float
    cv: ProtocolScore
    forward: ProtocolScore


class Calibration(BaseModel):
    project: str
    forecasts: int
    inside_p10_p90: float
    below_p10: float
    above_p90: float
    p50_mae: float
    last_sprint_mae: float
    mean_velocity: float
    rows: list[dict[str, Any]]


def _score(y: np.ndarray, preds: dict[str, np.ndarray], model: np.ndarray, iqr: float) -> ProtocolScore:
    return ProtocolScore(
        model=round(float(np.mean(np.abs(model - y))) / iqr, 3),
        baselines={k: round(float(np.mean(np.abs(v - y))) / iqr, 3) for k, v in preds.items()},
        model_mae=round(float(np.mean(np.abs(model - y))), 3),
        tested=len(y),
    )


def evaluate_project(data: Path, project: str, time: int, *, seed: int = 0) -> ProjectTime:
    its = sorted(load_tse2017_iterations(data, project, time), key=lambda r: (r.sprintid, r.boardid))
    issues = load_tse2017_issues(data, project, time)
    x, _ = build_features(its, issues)
    y = np.asarray([r.vel_diff for r in its], dtype=float)
    q1, q3 = np.percentile(y, [25, 75])
    iqr = float(q3 - q1) or 1.0
    blocks = np.array_split(np.arange(len(its)), FOLDS)
    results: dict[str, ProtocolScore] = {}
    for protocol in ("cv", "forward"):
        tested: list[np.ndarray] = []
        model_pred: list[np.ndarray] = []
        base_pred: dict[str, list[np.ndarray]] = {k: [] for k in BASELINES}
        for k, test in enumerate(blocks):
            if protocol == "cv":
                train = np.setdiff1d(np.arange(len(its)), test)
            else:
                if k == 0:
                    continue
                train = np.concatenate(blocks[:k])
            model = DeliveryModel(seed=seed).fit(x[train], y[train])
            model_pred.append(model.predict(x[test]))
            naive = naive_predictions([its[i] for i in train], [its[i] for i in test], its)
            for name in BASELINES:
                base_pred[name].append(naive[name])
            tested.append(test)
        idx = np.concatenate(tested)
        results[protocol] = _score(
            y[idx], {k: np.concatenate(v) for k, v in base_pred.items()}, np.concatenate(model_pred), iqr
        )
    return ProjectTime(
        project=project, time=time, sprints=len(its), iqr=iqr, cv=results["cv"], forward=results["forward"]
    )


def rolling_calibration(velocities: Sequence[float | None], *, start: int = MIN_SPRINTS) -> dict[str, Any]:
    """Forecast sprint i from sprints < i; share of actuals inside [P10, P90]; P50 and last-sprint MAE
    (the band statistics are the live scorecard's, tools/scorecard/metrics.band_stats)."""
    from tools.scorecard.metrics import band_stats

    err_last: list[float] = []
    rows = []
    for i in range(start, len(velocities)):
        actual = velocities[i]
        if actual is None:
            continue
        history = list(velocities[:i])
        fc = velocity_forecast(history, 1, runs=4000, seed=i)
        p10, p50, p90 = fc.p(10), fc.p(50), fc.p(90)
        last = next((v for v in reversed(history) if v is not None), 0.0)
        err_last.append(abs(last - actual))
        rows.append({"index": i, "actual": actual, "p10": p10, "p50": p50, "p90": p90, "last": last})
    n = len(rows)
    band = band_stats((x["p10"], x["p50"], x["p90"], x["actual"]) for x in rows)
    return {
        "forecasts": n,
        "inside_p10_p90": round(band.inside or 0.0, 3),
        "below_p10": round(band.below or 0.0, 3),
        "above_p90": round(band.above or 0.0, 3),
        "p50_mae": round(band.p50_mae or 0.0, 2),
        "last_sprint_mae": round(statistics.fmean(err_last), 2) if n else 0.0,
        "rows": rows,
    }


def springxd_velocities(data: Path, project: str = "SpringXD") -> list[float]:
    """Completed points per sprint, oldest first (sprints without a start date are left out)."""
    kp = load_koralage(data, project)
    dated = sorted((s for s in kp.sprints if s.start is not None), key=lambda s: (s.start, s.sprint_id))
    return [float(s.completed_points) for s in dated]


def calibrate(data: Path, project: str = "SpringXD") -> Calibration:
    velocities = springxd_velocities(data, project)
    res = rolling_calibration(velocities)
    return Calibration(project=project, mean_velocity=round(statistics.fmean(velocities), 2), **res)


def run(
    data: Path, projects: Sequence[str] | None = None, *, seed: int = 0, calibration: bool = True
) -> dict[str, Any]:
    chosen = list(projects or DEV_PROJECTS)
    results = [evaluate_project(data, p, t, seed=seed) for p in chosen for t in TIMES]
    summary: dict[str, Any] = {
        "anchors": ANCHORS,
        "paper_iqr_30": {p: PAPER_IQR_30.get(p) for p in chosen},
        "projects": [r.model_dump() for r in results],
        "mean_nmae": {},
        "floor_met": {},
    }
    for protocol in ("cv", "forward"):
        for t in TIMES:
            sel = [r for r in results if r.time == t]
            scores = [getattr(r, protocol) for r in sel]
            summary["mean_nmae"][f"{protocol}_{t}"] = round(statistics.fmean(s.model for s in scores), 3)
            summary["mean_nmae"][f"{protocol}_{t}_best_naive"] = round(
                statistics.fmean(min(s.baselines.values()) for s in scores), 3
            )
            summary["floor_met"][f"{protocol}_{t}"] = all(s.beats_all for s in scores)
    # The published naive baseline cannot be reproduced from this data (see README), so the model's gain
    # over the best naive baseline is the comparison that does not depend on how NMAE was normalised.
    summary["relative_to_best_naive"] = {
        key: round(summary["mean_nmae"][key] / summary["mean_nmae"][f"{key}_best_naive"], 3)
        for key in (f"{protocol}_{t}" for protocol in ("cv", "forward") for t in TIMES)
        if summary["mean_nmae"][f"{key}_best_naive"] > 0
    }
    summary["goal_met"] = {
        "cv_0": summary["mean_nmae"]["cv_0"] <= ANCHORS["best_model_0"],
        "cv_30": summary["mean_nmae"]["cv_30"] <= ANCHORS["best_model_30"],
    }
    if calibration:
        summary["calibration"] = calibrate(data).model_dump()
    return summary


def format_table(summary: dict[str, Any]) -> str:
    lines = [
        "Sprint delivery (TSE2017): NMAE = MAE / IQR(vel_diff); lower is better",
        f"Published: best model {ANCHORS['best_model_0']} at 0%, {ANCHORS['best_model_30']} at 30%; "
        f"best naive {ANCHORS['best_naive_30']} (30%)",
        "",
        f"{'project':<9}{'T':>4}{'n':>6}{'IQR':>6}{'paperIQR':>9}  {'protocol':<8}{'model':>7}  "
        + "".join(f"{b:>13}" for b in BASELINES)
        + "  beats all",
    ]
    for r in summary["projects"]:
        for protocol in ("cv", "forward"):
            s = r[protocol]
            beats = all(s["model"] < v for v in s["baselines"].values())
            paper = summary["paper_iqr_30"].get(r["project"]) if r["time"] == 30 else None
            lines.append(
                f"{r['project']:<9}{r['time']:>3}%{r['sprints']:>6}{r['iqr']:>6g}{paper or '-':>9}  "
                f"{protocol:<8}{s['model']:>7.3f}  "
                + "".join(f"{s['baselines'][b]:>13.3f}" for b in BASELINES)
                + f"  {'yes' if beats else 'NO'}"
            )
    lines.append("")
    m = summary["mean_nmae"]
    for protocol in ("cv", "forward"):
        lines.append(
            f"mean NMAE {protocol:<8} 0%: {m[f'{protocol}_0']:.3f} "
            f"(best naive {m[f'{protocol}_0_best_naive']:.3f})"
            f"   30%: {m[f'{protocol}_30']:.3f} (best naive {m[f'{protocol}_30_best_naive']:.3f})"
            f"   floor met: 0% {summary['floor_met'][f'{protocol}_0']}, "
            f"30% {summary['floor_met'][f'{protocol}_30']}"
        )
    rel = summary.get("relative_to_best_naive", {})
    if rel:
        paper = ANCHORS["best_model_30"] / ANCHORS["best_naive_30"]
        lines.append(
            "model / best naive (mean NMAE ratio): "
            + ", ".join(f"{k.replace('_', ' ')}%: {v:.3f}" for k, v in rel.items())
            + f"   (published at 30%: {ANCHORS['best_model_30']} / {ANCHORS['best_naive_30']} = {paper:.3f})"
        )
    lines.append(f"goal (cv mean ≤ 0.390 at 0%, ≤ 0.349 at 30%): {summary['goal_met']}")
    cal = summary.get("calibration")
    if cal:
        lines += [
            "",
            f"Forecast calibration ({cal['project']}, rolling origin, {cal['forecasts']} sprints, "
            f"mean velocity {cal['mean_velocity']}):",
            f"  inside P10-P90: {cal['inside_p10_p90']:.1%} (target 75-85%); "
            f"below P10 {cal['below_p10']:.1%}, "
            f"above P90 {cal['above_p90']:.1%}",
            f"  P50 MAE {cal['p50_mae']} points vs naive last-sprint MAE {cal['last_sprint_mae']}",
        ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--projects", default="")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    chosen = [p.strip() for p in args.projects.split(",") if p.strip()] or None
    summary = run(args.data, chosen)
    print(format_table(summary))
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2, default=str))


if __name__ == "__main__":
    main()
