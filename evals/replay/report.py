"""Write the replay report: `report.md` with tables, PNG charts (matplotlib, Agg) and `report.json`.

The JSON holds only deterministic content (observations and scores, no wall times), so two runs
over the same recordings and seed give byte-identical files.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from evals.replay.observations import SprintObservation
from evals.replay.scorers import Chart, ScoreSection, Table

REPORT_FORMAT = "sprintpilot.replay_report"
REPORT_VERSION = 1


def report_dict(
    meta: dict[str, Any], sections: list[ScoreSection], obs: list[SprintObservation]
) -> dict[str, Any]:
    return {
        "format": REPORT_FORMAT,
        "version": REPORT_VERSION,
        "meta": meta,
        "scores": {s.name: s.summary for s in sections},
        "sections": [s.model_dump(mode="json") for s in sections],
        "sprints": [o.model_dump(mode="json") for o in obs],
    }


def dumps(report: dict[str, Any]) -> str:
    return json.dumps(report, sort_keys=True, indent=1, ensure_ascii=False) + "\n"


def _cell(v: Any) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return (
            f"{v:g}" if abs(v) >= 100 else f"{v:.2f}".rstrip("0").rstrip(".") if v != int(v) else f"{int(v)}"
        )
    return str(v).replace("|", "\\|")


def markdown_table(t: Table, limit: int | None = None) -> list[str]:
    rows = t.rows if limit is None else t.rows[:limit]
    lines = [f"**{t.title}**", "", "| " + " | ".join(t.columns) + " |", "|" + "---|" * len(t.columns)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    if limit is not None and len(t.rows) > limit:
        lines.append(f"| … {len(t.rows) - limit} more rows in report.json |" + " |" * (len(t.columns) - 1))
    return lines


def draw(chart: Chart, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 4.5), dpi=100)
    if chart.kind == "lines":
        for name, ys in chart.series.items():
            pts = [(x, y) for x, y in zip(chart.x, ys, strict=False) if y is not None]
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", markersize=3, label=name)
    else:
        values = [v for ys in chart.series.values() for v in ys if v is not None]
        if values:
            lo, hi = min(values), max(values)
            bins = 20 if hi > lo else 1
            for name, ys in chart.series.items():
                ax.hist(
                    [v for v in ys if v is not None],
                    bins=bins,
                    range=(lo, hi) if hi > lo else None,
                    alpha=0.55,
                    label=name,
                )
    ax.set_title(chart.title)
    ax.set_xlabel(chart.xlabel)
    ax.set_ylabel(chart.ylabel)
    ax.grid(alpha=0.3)
    if chart.series:
        ax.legend()
    fig.tight_layout()
    fig.savefig(out, metadata={"Software": None})
    plt.close(fig)


def write_report(
    out_dir: Path,
    meta: dict[str, Any],
    sections: list[ScoreSection],
    obs: list[SprintObservation],
    *,
    runtime_s: float | None = None,
    charts: bool = True,
) -> dict[str, Any]:
    out_dir.mkdir(parents=True, exist_ok=True)
    report = report_dict(meta, sections, obs)
    (out_dir / "report.json").write_text(dumps(report), encoding="utf-8")
    lines = [
        "# Recorded-sprint replay",
        "",
        f"Dataset: {meta.get('dataset')} · sprints replayed: {meta.get('sprints_replayed')} · "
        f"seed {meta.get('seed')} "
        f"· history window {meta.get('history')} sprints · language engine: {meta.get('engine')}",
    ]
    if runtime_s is not None:
        lines.append(f"Runtime: {runtime_s:.1f} s")
    for s in sections:
        lines += ["", f"## {s.title}", ""]
        lines += [f"- {n}" for n in s.notes]
        lines += ["", *markdown_table(s.metrics)]
        for t in s.tables:
            lines += ["", *markdown_table(t)]
        if charts:
            for c in s.charts:
                draw(c, out_dir / c.file)
                lines += ["", f"![{c.title}]({c.file})"]
    (out_dir / "report.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return report
