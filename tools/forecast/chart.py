"""The forecast fan chart as a PNG (matplotlib, Agg canvas, no global pyplot state)."""

from __future__ import annotations

import io
from collections.abc import Sequence


def fan_chart_png(
    history: Sequence[float],
    bands: dict[int, list[float]],
    title: str,
    *,
    scope_points: float | None = None,
    unit: str = "points",
) -> bytes:
    """Past velocity (bars) and cumulative future points (P50 line in P10–P90 and P5–P95 bands);
    `unit="items"` draws a throughput forecast (item counts) the same way."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.5, 3.8), dpi=100)
    FigureCanvasAgg(fig)
    ax_hist, ax_fan = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 2]})
    ax_hist.bar(range(1, len(history) + 1), list(history), color="#5b8def")
    ax_hist.set_title("past sprints", fontsize=9)
    ax_hist.set_xlabel("sprint")
    ax_hist.set_ylabel(f"{unit} completed")
    horizon = len(bands[50])
    xs = list(range(1, horizon + 1))
    ax_fan.fill_between(xs, bands[5], bands[95], color="#f0ad4e", alpha=0.25, label="P5–P95")
    ax_fan.fill_between(xs, bands[10], bands[90], color="#f0ad4e", alpha=0.45, label="P10–P90")
    ax_fan.plot(xs, bands[50], color="#d9534f", marker="o", label="P50")
    if scope_points:
        ax_fan.axhline(scope_points, color="#555555", linestyle="--", label=f"scope {scope_points:g} {unit}")
    ax_fan.set_title("cumulative forecast", fontsize=9)
    ax_fan.set_xlabel("sprints ahead")
    ax_fan.set_ylim(bottom=0)
    ax_fan.grid(alpha=0.3)
    ax_fan.legend(fontsize=7, loc="upper left")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()
