"""Eval: throughput (item-count) vs points forecasting, walk-forward backtest per recorded project.

    python -m evals.throughput --data /work/shared/datasets/sprints [--horizons 1,3] [--json out.json]

Discovers every project under `--data` in the Koralage sprint-report format (a folder with a
``sprints.csv`` holding Jira's sprint-report columns: it records both completed points
``completedIssuesEstimateSum`` and completed items ``completedIssuesCount`` per sprint), reads it
in place (nothing is copied), orders the closed, dated sprints by start date, and runs
tools.forecast.backtest.walk_forward on it: at every cut point after the warm-up, both methods
forecast how many sprints the next H sprints' real output (points / items) takes, from the earlier
sprints only. Errors are in sprints, so they compare across methods. Reports per project and
horizon: sprints, scored cut points, MAE (sprints) / relative error (MAE / H) / calibration (share
inside P10–P90, nominal 80%) for each method, and the method the backtest picks. TSE2017 folders
are listed as skipped: their iteration files record delivered points but not delivered item counts.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from evals.datasets.csvrows import DatasetError, read_rows
from evals.datasets.sprints import SPRINT_COLUMNS, KoralageSprint, require_folder
from tools.errors import UserError
from tools.forecast.backtest import DEFAULT_HORIZON, Backtest, walk_forward

HORIZONS = (1, DEFAULT_HORIZON)


class ProjectHistory(BaseModel):
    project: str
    folder: str
    points: list[float]
    items: list[float]
    dropped: int  # sprints left out: no start date, or not closed (their counts are not final)


class ProjectRow(BaseModel):
    project: str
    horizon: int
    sprints: int
    backtest: Backtest


def discover(data: Path) -> tuple[list[Path], list[Path]]:
    """(Koralage project folders, TSE2017 project folders) anywhere under `data`, sorted."""
    require_folder(data)
    koralage = sorted({p.parent for p in data.rglob("sprints.csv")})
    tse = sorted({p.parent for p in data.rglob("*_iteration_0.csv")})
    if not koralage and not tse:
        raise DatasetError(
            data, None, "no sprint projects here (no Koralage sprints.csv, no TSE2017 *_iteration_0.csv)"
        )
    return koralage, tse


def load_history(folder: Path) -> ProjectHistory:
    """Completed points and items per closed, dated sprint, oldest first."""
    rows = read_rows(folder / "sprints.csv", KoralageSprint, required=SPRINT_COLUMNS)
    usable = sorted(
        (s for s in rows if s.start is not None and s.state.upper() == "CLOSED"),
        key=lambda s: (s.start, s.sprint_id),
    )
    return ProjectHistory(
        project=folder.name,
        folder=str(folder),
        points=[float(s.completed_points) for s in usable],
        items=[float(s.completed_issues) for s in usable],
        dropped=len(rows) - len(usable),
    )


def evaluate(history: ProjectHistory, horizon: int, *, seed: int = 0) -> ProjectRow:
    bt = walk_forward(history.points, history.items, horizon=horizon, seed=seed)
    return ProjectRow(project=history.project, horizon=horizon, sprints=len(history.points), backtest=bt)


def run(data: Path, horizons: Sequence[int] = HORIZONS, *, seed: int = 0) -> dict[str, Any]:
    koralage, tse = discover(data)
    histories = [load_history(f) for f in koralage]
    rows = [evaluate(h, k, seed=seed) for k in horizons for h in histories]
    return {
        "data": str(data),
        "horizons": list(horizons),
        "projects": [
            {"project": h.project, "folder": h.folder, "sprints": len(h.points), "dropped": h.dropped}
            for h in histories
        ],
        "rows": [r.model_dump(exclude={"backtest": {"cuts"}}) for r in rows],
        "skipped": [
            {"project": f.name, "folder": str(f), "why": "TSE2017 format records no delivered item counts"}
            for f in tse
        ],
    }


def _f(x: float | None, pct: bool = False) -> str:
    if x is None:
        return "-"
    return f"{x:.0%}" if pct else f"{x:.2f}"


def format_table(summary: dict[str, Any]) -> str:
    lines = [
        "Throughput vs points, walk-forward backtest; target: sprints to finish the next H sprints' output",
        "MAE in sprints (|P50 - H|), rel = MAE / H, cal = share of actuals inside P10-P90 (nominal 80%)",
    ]
    if not summary["rows"]:
        lines.append("no project in the sprint-report format found")
    for h in summary["horizons"]:
        lines += [
            "",
            f"H = {h} sprint{'s' if h > 1 else ''}"
            + (" (the forecast agent's default)" if h == DEFAULT_HORIZON else ""),
            "| project | sprints | forecasts | points MAE | points rel | points cal | "
            "throughput MAE | throughput rel | throughput cal | chosen |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
        ]
        for r in (r for r in summary["rows"] if r["horizon"] == h):
            bt = r["backtest"]
            p, t = bt["scores"]["points"], bt["scores"]["throughput"]
            lines.append(
                f"| {r['project']} | {r['sprints']} | {bt['forecasts']} | {_f(p['mae_sprints'])} | "
                f"{_f(p['relative_error'], True)} | {_f(p['calibration'], True)} | {_f(t['mae_sprints'])} | "
                f"{_f(t['relative_error'], True)} | {_f(t['calibration'], True)} | {bt['chosen']} |"
            )
    for r in summary["rows"]:
        lines.append(
            f"- {r['project']}, H={r['horizon']}: {r['backtest']['chosen']}: {r['backtest']['reason']}"
        )
    for s in summary["skipped"]:
        lines.append(f"skipped {s['project']}: {s['why']}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--data", type=Path, required=True, help="a folder holding sprint-report projects")
    ap.add_argument(
        "--horizons", default=",".join(map(str, HORIZONS)), help="backlog sizes in sprints, e.g. 1,3"
    )
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    horizons = [int(x) for x in args.horizons.split(",") if x.strip()]
    try:
        summary = run(args.data, horizons, seed=args.seed)
    except UserError as err:  # a missing or empty folder: one line, no traceback
        print(f"error: {err}", file=sys.stderr)
        raise SystemExit(2) from None
    print(format_table(summary))
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2, default=str))


if __name__ == "__main__":
    main()
