"""The console's scorecard page: the live scorecard (service/scorecard.py) as a chart and tables."""

from __future__ import annotations

from typing import TYPE_CHECKING

from service.console.charts import Series, bar_chart
from service.console.dashboard_data import Dashboard, Table
from service.scorecard import scorecard_for
from tools.scorecard.report import num, pct

if TYPE_CHECKING:
    from graphs.context import RunContext


def scorecard_dashboard(ctx: RunContext, project: str | None) -> Dashboard:
    card = scorecard_for(ctx, project=project)
    shares = [r for r in card.rows() if r.value is not None and not r.metric.endswith(("_mae", "_bias"))]
    chart = bar_chart(
        "scorecard",
        "sprintpilot's accuracy per agent (shares, 0–100%)",
        f"{len(shares)} share(s): precision and recall of flags, calibration of the forecast band, nudges "
        "followed within a day, approval and rejection rates. Errors in points are in the tables.",
        [f"{r.agent}: {r.metric}" for r in shares],
        [Series("share", [100 * (r.value or 0.0) for r in shares])],
        y_label="%",
    )
    tables = [
        Table(
            "Estimates vs actuals",
            ["agent", "predicts", "scored", "pending", "MAE", "bias", "MdAE", "actual within range"],
            [
                [
                    e.agent,
                    e.what,
                    str(e.n),
                    str(e.pending),
                    num(e.mae),
                    num(e.bias),
                    num(e.mdae),
                    pct(e.within_range),
                ]
                for e in card.estimates
            ],  # fmt: skip
            "estimates",
        ),
        Table(
            "Flags vs what really slipped",
            [
                "agent",
                "flag",
                "runs scored",
                "pending",
                "flagged",
                "flagged & slipped",
                "slipped",
                "precision",
                "recall",
                "F1",
            ],  # fmt: skip
            [
                [
                    f.agent,
                    f.what,
                    str(f.rounds),
                    str(f.pending),
                    str(f.flagged),
                    str(f.hits),
                    str(f.slipped),
                    num(f.precision),
                    num(f.recall),
                    num(f.f1),
                ]
                for f in card.flags
            ],  # fmt: skip
            "flags",
        ),
        Table(
            "Forecast calibration",
            ["agent", "scored", "pending", "inside P10–P90", "below P10", "above P90", "P50 MAE"],
            [
                [
                    c.agent,
                    str(c.n),
                    str(c.pending),
                    pct(c.inside_p10_p90),
                    pct(c.below_p10),
                    pct(c.above_p90),
                    num(c.p50_mae),
                ]
                for c in card.calibration
            ],  # fmt: skip
            "calibration",
        ),
        Table(
            "Nudges followed by a change within a day",
            ["agent", "nudges", "pending", "followed", "rate"],
            [[n.agent, str(n.nudges), str(n.pending), str(n.followed), pct(n.rate)] for n in card.nudges],
            "nudges",
        ),
        Table(
            "Approvals by kind",
            [
                "agent",
                "kind",
                "proposed",
                "approved",
                "of which edited",
                "rejected",
                "undecided",
                "approval rate",
                "rejection rate",
            ],  # fmt: skip
            [
                [
                    d.agent,
                    d.kind,
                    str(d.proposed),
                    str(d.approved),
                    str(d.edited),
                    str(d.rejected),
                    str(d.undecided),
                    pct(d.approval_rate),
                    pct(d.rejection_rate),
                ]
                for d in card.decisions
            ],  # fmt: skip
            "decisions",
        ),
        Table(
            "What people told sprintpilot (feedback loop)",
            ["agent", "corrections", "false alarms", "misses", '"wrong"'],
            [
                [f.agent, str(f.corrections), str(f.false_alarms), str(f.misses), str(f.disagreements)]
                for f in card.feedback
            ],
            "feedback",
        ),
    ]
    return Dashboard(
        title="Scorecard: was sprintpilot right?",
        chart=chart,
        tables=tables,
        notes=[f"Source: {card.source}."],
    )
