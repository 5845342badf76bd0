"""Replay scorer "forecast": calibration of the Monte Carlo velocity forecast over the recorded sprints.

Rolling origin: each sprint's completed points are forecast from the sprints before it (from the
4th on); reports the share inside P10–P90 (target 75–85%) and the P50's MAE beside the naive
last-sprint baseline. Import this module to register the scorer.
"""

from __future__ import annotations

from evals.replay.scorers import Chart, Observations, ScoreSection, Table, register_scorer
from evals.sprints import rolling_calibration


@register_scorer("forecast")
def score_forecast(obs: Observations) -> ScoreSection:
    ordered = sorted(obs, key=lambda o: o.sequence)
    cal = rolling_calibration([o.actual_completed_points for o in ordered])
    rows = cal["rows"]
    names = [ordered[r["index"]].name for r in rows]
    return ScoreSection(
        name="forecast",
        title="Velocity forecast calibration (rolling origin)",
        notes=["Each sprint is forecast from the sprints before it only; target: 75–85% inside P10–P90."],
        metrics=Table(
            title="Calibration",
            columns=["metric", "value"],
            rows=[
                ["sprints forecast", cal["forecasts"]],
                ["inside P10–P90", cal["inside_p10_p90"]],
                ["below P10", cal["below_p10"]],
                ["above P90", cal["above_p90"]],
                ["P50 MAE", cal["p50_mae"]],
                ["last-sprint MAE", cal["last_sprint_mae"]],
            ],
        ),
        tables=[
            Table(
                title="Per sprint",
                columns=["sprint", "actual", "P10", "P50", "P90", "last sprint"],
                rows=[
                    [n, r["actual"], r["p10"], r["p50"], r["p90"], r["last"]]
                    for n, r in zip(names, rows, strict=True)
                ],
            )
        ],
        charts=[
            Chart(
                kind="lines",
                file="forecast_calibration.png",
                title="Actual velocity against the forecast band",
                xlabel="sprint",
                ylabel="points",
                x=names,
                series={k: [r[k] for r in rows] for k in ("actual", "p10", "p50", "p90")},
            )
        ],
        summary={
            "inside_p10_p90": cal["inside_p10_p90"],
            "p50_mae": cal["p50_mae"],
            "last_sprint_mae": cal["last_sprint_mae"],
            "forecasts": cal["forecasts"],
        },
    )
