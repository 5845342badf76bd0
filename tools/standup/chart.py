"""The burndown as a PNG (matplotlib with the non-interactive Agg canvas; no global pyplot state)."""

from __future__ import annotations

import io

from tools.standup.burndown import Burndown


def render_png(bd: Burndown, title: str) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.0, 3.8), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    n = len(bd.days)
    ideal_x = list(range(n + 1))
    ideal_y = [bd.initial_scope * (1 - i / n) for i in ideal_x]
    ax.plot(ideal_x, ideal_y, linestyle="--", color="#888888", label="ideal")
    xs = [0, *range(1, len(bd.points) + 1)]
    ax.plot(
        xs,
        [bd.initial_scope, *(p.remaining for p in bd.points)],
        marker="o",
        color="#d9534f",
        label="remaining",
    )
    ax.step(
        xs, [bd.initial_scope, *(p.scope for p in bd.points)], where="post", color="#5b8def", label="scope"
    )
    labels = ["start", *(d.strftime("%a %d") for d in bd.days)]
    ax.set_xticks(range(n + 1), labels, rotation=45, ha="right", fontsize=7)
    ax.set_ylabel("story points")
    ax.set_ylim(bottom=0)
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()
