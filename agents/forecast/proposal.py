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


def _unit(result: ForecastResult) -> str:
    return "items" if result.chosen == "throughput" else "points"


def method_line(result: ForecastResult) -> str:
    """Which forecast produced the dates, and the backtest numbers (or the rule) that chose it."""
    bt = result.method
    if bt is None:
        return "- Method: points (velocity Monte Carlo)."
    what = "throughput (completed items per sprint)" if bt.chosen == "throughput" else "points (velocity)"
    # A forced method's reason already starts with "requested; ..." and keeps what the data said.
    return f"- Method: {what}, {bt.reason if bt.forced else 'chosen automatically: ' + bt.reason}."


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
    ni = result.next_sprint_items
    if ni is not None and ni.basis != "none":
        items = ", ".join("n/a" if h is None else f"{h:g}" for h in result.item_history)
        lines.append(
            f"- Throughput next sprint: P50 {ni.p(50):g} items (P10–P90 {ni.p(10):g}–{ni.p(90):g}); "
            f"completed items per past sprint: {items}."
        )
    if n.caveat:
        lines.append(f"- **Caveat:** {n.caveat}")
    lines.append(method_line(result))
    dp = result.done.percentiles
    lines.append(
        f"- Scope ({s.label}): {s.items} items, {s.points:g} points"
        + (f" ({s.unestimated} unestimated, counted as {s.imputed_points:g} points)" if s.unestimated else "")
        + f"; done ({_unit(result)}) by P50 {_d(dp.get(50))}, P85 {_d(dp.get(85))}, P95 {_d(dp.get(95))}"
        + (f" (P10 {_d(dp[10])}, P90 {_d(dp[90])})" if 10 in dp and 90 in dp else "")
        + "."
    )
    if result.by is not None:
        if result.by_forecast is None:
            lines.append(f"- By {result.by.isoformat()}: no whole sprint ends by then.")
        else:
            b = result.by_forecast
            lines.append(
                f"- By {result.by.isoformat()} ({b.sprints} sprints): P50 {b.p(50):g}, P85 {b.p(85):g}, "
                f"P95 {b.p(95):g} {b.unit} (P10–P90 {b.p(10):g}–{b.p(90):g}); probability the scope is done: "
                f"{result.by_probability:.0%}."
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
        f"_Numbers from a Monte Carlo simulation over past sprints ({_unit(result)}); "
        f"written by {written_by(engine)}._",
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
            reason=f"{result.chosen} forecast and scope completion dates",
        )
    ]
    # The chart shows the forecast the dates came from: items for throughput, points otherwise.
    by_items = result.chosen == "throughput"
    bands = result.item_bands if by_items else result.bands
    if bands:
        png = fan_chart_png(
            [h or 0.0 for h in (result.item_history if by_items else result.history)],
            bands,
            f"{project_name}: {'throughput' if by_items else 'velocity'} forecast",
            scope_points=(result.scope.items if by_items else result.scope.points) or None,
            unit=_unit(result),
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
        # Which method produced `done` / `by_forecast`, and the backtest numbers that chose it.
        "method": result.chosen,
        "method_reason": result.method.reason if result.method else None,
        "backtest": result.method.model_dump(mode="json", exclude={"cuts"}) if result.method else None,
        "item_history": result.item_history,
        "next_sprint_items": result.next_sprint_items.model_dump(mode="json")
        if result.next_sprint_items
        else None,
        "done_by_method": {k: v.model_dump(mode="json") for k, v in result.done_by_method.items()},
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
