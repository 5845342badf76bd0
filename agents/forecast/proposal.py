"""The forecast as a Proposal: a status update on the backlog project plus the fan chart (both auto)."""

from __future__ import annotations

import base64
from typing import Any

from agents.forecast.compute import ForecastResult
from agents.proposal import Action, ActionKind, PromptRef, Proposal, Scope
from tools.forecast.chart import fan_chart_png
from tools.llm.labels import written_by

LIKELY, POSSIBLE = 0.7, 0.4


def status_type(result: ForecastResult) -> str:
    if result.by_probability is None:
        return "at_risk" if result.next_sprint.basis != "normal" else "on_track"
    if result.by_probability >= LIKELY:
        return "on_track"
    return "at_risk" if result.by_probability >= POSSIBLE else "off_track"


def _d(x: Any) -> str:
    return "beyond the horizon" if x is None else x.isoformat()


def summary_markdown(result: ForecastResult, narrative: Any, engine: str) -> str:
    n = result.next_sprint
    pts = ", ".join("n/a" if h is None else f"{h:g}" for h in result.history)
    s = result.scope
    lines = [
        f"## {narrative.headline}",
        "",
        narrative.summary,
        "",
        f"- Next sprint ({result.start.isoformat()}, {result.sprint_days} days): P50 {n.p(50):g}, "
        f"P85 {n.p(85):g}, P95 {n.p(95):g} points (P10–P90 {n.p(10):g}–{n.p(90):g}).",
        f"- History ({n.history_used} sprints used, {n.missing} without points, {n.clipped} outliers "
        f"clipped, trend {n.trend_per_sprint:+g} points/sprint): {pts}.",
    ]
    if n.caveat:
        lines.append(f"- **Caveat:** {n.caveat}")
    lines.append(
        f"- Scope ({s.label}): {s.items} items, {s.points:g} points"
        + (f" ({s.unestimated} unestimated, counted as {s.imputed_points:g} points)" if s.unestimated else "")
        + f"; done by P50 {_d(result.done.percentiles.get(50))}, P85 {_d(result.done.percentiles.get(85))}, "
        f"P95 {_d(result.done.percentiles.get(95))}."
    )
    if result.by is not None:
        if result.by_forecast is None:
            lines.append(f"- By {result.by.isoformat()}: no whole sprint ends by then.")
        else:
            b = result.by_forecast
            lines.append(
                f"- By {result.by.isoformat()} ({b.sprints} sprints): P50 {b.p(50):g}, P85 {b.p(85):g}, "
                f"P95 {b.p(95):g} points; probability the scope is done: {result.by_probability:.0%}."
            )
    cap = result.capacity
    lines += [
        "",
        f"### Capacity vs workload (team capacity {cap.team_capacity:g}, assigned {cap.assigned_total:g}, "
        f"unassigned {cap.unassigned_points:g})",
        "",
        "| Person | Assigned | Capacity | Recommended | Load |",
        "|--------|---------:|---------:|------------:|-----:|",
    ]
    for p in cap.people:
        flag = " ⚠ over-allocated" if p.over_allocated else ""
        load = "n/a" if p.load is None else f"{p.load:.0%}"
        lines.append(
            f"| {p.name} | {p.assigned_points:g} | {p.capacity_points:g} | "
            f"{p.recommended_points:g} | {load}{flag} |"
        )
    lines += [
        "",
        f"_Numbers from a Monte Carlo simulation over past sprints; written by {written_by(engine)}._",
    ]
    return "\n".join(lines)


def make_proposal(
    result: ForecastResult,
    *,
    workspace_gid: str,
    project_gid: str,
    project_name: str,
    narrative: Any,
    engine: str,
    prompts: list[PromptRef],
) -> Proposal:
    text = summary_markdown(result, narrative, engine)
    actions = [
        Action(
            kind=ActionKind.POST_STATUS_UPDATE,
            target=project_gid,
            params={
                "title": f"Forecast: {narrative.headline}"[:255],
                "text": text,
                "status_type": status_type(result),
            },
            reason="velocity forecast and scope completion dates",
        )
    ]
    if result.bands:
        png = fan_chart_png(
            [h or 0.0 for h in result.history],
            result.bands,
            f"{project_name}: velocity forecast",
            scope_points=result.scope.points or None,
        )
        actions.append(
            Action(
                kind=ActionKind.ATTACH_FILE,
                target=project_gid,
                params={
                    "filename": "forecast-fan-chart.png",
                    "replaces": True,
                    "content_base64": base64.b64encode(png).decode(),
                    "content_type": "image/png",
                    "parent_type": "project",
                },
                reason="fan chart of the cumulative forecast",
            )
        )
    evidence = {
        "history": result.history,
        "history_names": result.history_names,
        "next_sprint": result.next_sprint.model_dump(mode="json"),
        "scope": result.scope.model_dump(),
        "done": result.done.model_dump(mode="json"),
        "by": result.by.isoformat() if result.by else None,
        "by_forecast": result.by_forecast.model_dump(mode="json") if result.by_forecast else None,
        "by_probability": result.by_probability,
        "capacity": result.capacity.model_dump(),
    }
    return Proposal(
        agent="forecast",
        scope=Scope(workspace_gid=workspace_gid, project_gids=[project_gid]),
        title=f"Forecast for {project_name}",
        subject=f"forecast:{project_gid}:{result.scope.model_dump_json()}",
        summary_markdown=text,
        evidence=evidence,
        actions=actions,
        model=engine,
        prompts=prompts,
    )
