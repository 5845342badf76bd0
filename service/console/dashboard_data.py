"""The numbers behind each console dashboard, computed by the agents' own code.

Each builder reads through `asana` (a `VisibleReads` view: only what the signed-in person can
see) and returns a `Dashboard`: the chart's SVG and the tables holding the same numbers. Nothing
here re-derives a metric: the burndown is the stand-up's (`compute_standup`), velocity, the fan
and capacity are the forecast agent's (`compute_forecast`), health is the health scorer's, and
the noise count uses the ledger's own "did this reach Asana" rule (`wrote_to_asana`).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select

from agents.forecast.compute import FAN_SPRINTS, ForecastResult, compute_forecast
from agents.health.inputs import read_portfolio
from agents.planner.inputs import PlanningInputs, read_planning_inputs
from agents.standup.compute import compute_standup
from agents.standup.inputs import read_standup_inputs
from graphs.ports import LedgerStatus, wrote_to_asana
from service.console.charts import Fan, Series, bar_chart, fmt, line_chart, velocity_fan_chart
from service.db.engine import read_session
from service.db.models import LedgerRow, ProposalRow
from tools.asana.field_names import ESTIMATED_STORY_POINTS, STORY_POINTS
from tools.health.score import health_score, health_trend
from tools.planning.phase import is_sprint_name, sprint_phase
from tools.standup.blockers import DEFAULT_STALE_DAYS
from tools.standup.risk import DEFAULT_DUE_SOON_DAYS

DEFAULT_BACKLOG = "Product Backlog"
DEFAULT_PORTFOLIO = "Mobile Portfolio"  # the health agent's default (agents/health/specialist.py)
NOISE_DAYS = 30
COMPONENT_LABELS = {
    "completion": "Completion",
    "carry_over": "Carry-over",
    "blockers": "Blockers",
    "forecast_risk": "Forecast risk",
    "sentiment": "Retro sentiment",
}


@dataclass(frozen=True)
class Table:
    caption: str
    headers: list[str]
    rows: list[list[str]]
    testid: str = "data"


@dataclass(frozen=True)
class Dashboard:
    title: str
    chart: str
    tables: list[Table]
    notes: list[str] = field(default_factory=list)


# --- sprint burndown -------------------------------------------------------------------------


def active_sprint(asana: Any, workspace: str, today: date) -> str:
    """The gid of the visible sprint project active today (the newest if several)."""
    active = [
        p
        for p in asana.projects(workspace)
        if is_sprint_name(p.name) and sprint_phase(p, today) == "active" and p.start_on
    ]
    if not active:
        raise LookupError("no sprint is active today; name one with ?project=")
    return str(max(active, key=lambda p: p.start_on).gid)


def sprint_dashboard(asana: Any, workspace: str, project: str | None, now: datetime, tz: str) -> Dashboard:
    ref = project or active_sprint(asana, workspace, now.astimezone(ZoneInfo(tz)).date())
    inputs = read_standup_inputs(asana, workspace, ref, now, ZoneInfo(tz))
    st = compute_standup(inputs, stale_days=DEFAULT_STALE_DAYS, due_soon_days=DEFAULT_DUE_SOON_DAYS)
    bd = st.burndown
    name = inputs.project.name or inputs.project.gid
    by_day = {p.day: p for p in bd.points}
    labels = [d.strftime("%b %d") for d in bd.days]

    def column(attr: str) -> list[float | None]:
        return [getattr(by_day[d], attr) if d in by_day else None for d in bd.days]

    chart = line_chart(
        "burndown",
        f"Burndown of {name}, {bd.start.isoformat()} to {bd.end.isoformat()}",
        f"Remaining points per working day ({fmt(bd.remaining_now)} of {fmt(bd.scope_now)} now), the "
        f"ideal line and the scope line ({fmt(bd.initial_scope)} at the start). Status: {bd.status_type}.",
        labels,
        [
            Series("remaining", column("remaining"), step=True),
            Series("ideal", column("ideal")),
            Series("scope", column("scope"), step=True),
        ],
    )
    rows = [[p.day.isoformat(), fmt(p.scope), fmt(p.remaining), fmt(p.ideal), fmt(p.done)] for p in bd.points]
    changes = [[c.day.isoformat(), c.task_gid, c.kind, fmt(c.points)] for c in bd.scope_changes]
    return Dashboard(
        title=f"Sprint burndown: {name}",
        chart=chart,
        tables=[
            Table(
                f"Burndown of {name} per working day",
                ["day", "scope", "remaining", "ideal", "done"],
                rows,
            ),
            Table(f"Scope changes in {name}", ["day", "task", "change", "points"], changes, "scope-changes"),
        ],
        notes=[*bd.anomalies, f"Status {bd.status_type}; gap {bd.gap:.0%} of the scope."],
    )


# --- forecast: velocity and capacity ---------------------------------------------------------


def forecast(
    asana: Any, workspace: str, project: str | None, today: date
) -> tuple[PlanningInputs, ForecastResult]:
    """The forecast agent's numbers for a backlog (the same reads and simulation as `forecast`)."""
    inputs = read_planning_inputs(asana, workspace, project or DEFAULT_BACKLOG, today=today)
    return inputs, compute_forecast(inputs, scope=None, by=None, today=today)


def velocity_dashboard(asana: Any, workspace: str, project: str | None, today: date) -> Dashboard:
    inputs, r = forecast(asana, workspace, project, today)
    name, next_number = inputs.backlog.name or inputs.backlog.gid, inputs.next_sprint_number
    bands = r.bands
    horizon = len(bands.get(50, []))
    fan = Fan(p10=bands.get(10, []), p50=bands.get(50, []), p90=bands.get(90, []), scope=r.scope.points)
    past = ", ".join(f"{n} {fmt(v)}" for n, v in zip(r.history_names, r.history, strict=True))
    title = f"Velocity of {name} and the cumulative forecast for the next {horizon or FAN_SPRINTS} sprints"
    chart = velocity_fan_chart(
        "velocity",
        title,
        f"Completed points per past sprint ({past}); "
        f"cumulative points forecast from {r.start.isoformat()}: P10–P90 band and P50 line; the dashed line "
        f"is the open scope ({fmt(r.scope.points)} points, {r.scope.label}).",
        r.history_names,
        r.history,
        fan,
    )
    # The forecast keeps completed points; committed comes from the same sprint records.
    rows = [
        [s.record.name, fmt(s.record.committed_points), fmt(s.record.completed_points), "", "", ""]
        for s in inputs.history
    ]
    for i in range(horizon):
        rows.append(
            [
                f"Sprint {next_number + i} (forecast, cumulative)",
                "",
                "",
                fmt(fan.p10[i]),
                fmt(fan.p50[i]),
                fmt(fan.p90[i]),
            ]
        )
    n = r.next_sprint
    notes = [
        f"Next sprint: P50 {fmt(n.p(50))}, P85 {fmt(n.p(85))}, P95 {fmt(n.p(95))} points ({n.basis} basis).",
        f"Scope: {fmt(r.scope.points)} points in {r.scope.items} open items "
        f"({r.scope.unestimated} unestimated).",
    ]
    if n.caveat:
        notes.append(n.caveat)
    return Dashboard(
        title=f"Velocity: {name}",
        chart=chart,
        tables=[
            Table(
                f"{title} (forecast horizon: {horizon} sprints of {r.sprint_days} days)",
                ["sprint", "committed points", "completed points", "P10", "P50", "P90"],
                rows,
            )
        ],
        notes=notes,
    )


def capacity_dashboard(asana: Any, workspace: str, project: str | None, today: date) -> Dashboard:
    inputs, r = forecast(asana, workspace, project, today)
    name = inputs.backlog.name or inputs.backlog.gid
    cap = r.capacity
    people = cap.people
    chart = bar_chart(
        "capacity",
        f"Capacity vs assigned points per person, next sprint of {name}",
        f"Team capacity {fmt(cap.team_capacity)} points (the P50 forecast), "
        f"{fmt(cap.assigned_total)} assigned, "
        f"{fmt(cap.unassigned_points)} unassigned; over-allocated: "
        f"{', '.join(p.name for p in cap.over_allocated) or 'nobody'}.",
        [p.name for p in people],
        [
            Series("capacity", [p.capacity_points for p in people]),
            Series("assigned", [p.assigned_points for p in people]),
        ],
    )
    rows = [
        [
            p.name,
            fmt(p.capacity_points),
            fmt(p.assigned_points),
            fmt(p.recommended_points),
            "–" if p.load is None else f"{p.load:.0%}",
            "yes" if p.over_allocated else "no",
        ]
        for p in people
    ]
    return Dashboard(
        title=f"Capacity: {name}",
        chart=chart,
        tables=[
            Table(
                f"Capacity vs load per person for the sprint starting {r.start.isoformat()}",
                ["person", "capacity", "assigned", "recommended", "load", "over-allocated"],
                rows,
            )
        ],
        notes=[
            f"Team capacity {fmt(cap.team_capacity)} points; {fmt(cap.unassigned_points)} points unassigned."
        ],
    )


# --- health ----------------------------------------------------------------------------------


def health_dashboard(asana: Any, workspace: str, portfolio: str | None) -> Dashboard:
    inputs = read_portfolio(asana, workspace, portfolio or DEFAULT_PORTFOLIO)
    if not inputs.sprints:
        raise LookupError(f"portfolio {inputs.portfolio_name!r} holds no sprint project you can see")
    facts = [f for _, f in inputs.sprints]
    trend = health_trend(facts)
    # Each sprint's score with the window ending at it, split into the scorer's components.
    windows = [health_score(facts[: i + 1]) for i in range(len(facts))]
    names = [f.name for f in facts]
    series = [Series("health", [w.score for w in windows])]
    for key, label in COMPONENT_LABELS.items():
        series.append(Series(label, [next(c.value for c in w.components if c.name == key) for w in windows]))
    h = trend.current
    chart = line_chart(
        "health",
        f"Health of {inputs.portfolio_name} per sprint project (0–100)",
        f"Health now {fmt(h.score)} ({h.band}), trend {trend.slope_per_sprint:+g} per sprint; lines for "
        "the score and each component's sub-score.",
        names,
        series,
        y_label="score",
        y_max=100,
    )
    per_sprint = [
        [n, fmt(w.score), w.band, *(fmt(c.value) for c in w.components)]
        for n, w in zip(names, windows, strict=True)
    ]
    components = [
        [COMPONENT_LABELS[c.name], fmt(c.value), f"{c.weight:.0%}", fmt(c.contribution), c.detail]
        for c in h.components
    ]
    return Dashboard(
        title=f"Health: {inputs.portfolio_name}",
        chart=chart,
        tables=[
            Table(
                f"Health of each sprint project in {inputs.portfolio_name}",
                ["project", "health", "band", *COMPONENT_LABELS.values()],
                per_sprint,
            ),
            Table(
                f"Components of the current health ({fmt(h.score)}, {h.band})",
                ["component", "sub-score", "weight", "contribution", "detail"],
                components,
                "components",
            ),
        ],
        notes=[f"Trend {trend.slope_per_sprint:+g} points per sprint."],
    )


# --- estimate accuracy -----------------------------------------------------------------------


def accuracy_dashboard(asana: Any, workspace: str, project: str | None, today: date) -> Dashboard:
    """sprintpilot's estimates (Estimated Story Points) against the points finished tasks carry."""
    inputs = read_planning_inputs(asana, workspace, project or DEFAULT_BACKLOG, today=today)
    name = inputs.backlog.name or inputs.backlog.gid
    pairs = []
    for task in inputs.tasks.values():
        estimate, actual = task.number(ESTIMATED_STORY_POINTS), task.number(STORY_POINTS)
        if task.completed and estimate is not None and actual is not None:
            pairs.append((task.name or task.gid, estimate, actual))
    pairs.sort(key=lambda p: p[0])
    errors = [e - a for _, e, a in pairs]
    from evals.replay.scorers import bias, mae  # the evals' own error metrics

    chart = bar_chart(
        "accuracy",
        f"Estimated vs actual story points of finished tasks in {name}",
        f"{len(pairs)} finished tasks with an estimate; mean absolute error {fmt(mae(errors))}, "
        f"bias {fmt(bias(errors))} points (positive: estimates were high).",
        [p[0] for p in pairs],
        [Series("estimate", [p[1] for p in pairs]), Series("actual", [p[2] for p in pairs])],
    )
    rows = [[n, fmt(e), fmt(a), fmt(e - a)] for n, e, a in pairs]
    notes = [
        f"Mean absolute error {fmt(mae(errors))}, bias {fmt(bias(errors))} points over {len(pairs)} tasks."
    ]
    if not pairs:
        notes = [f"No finished task in {name} has both {ESTIMATED_STORY_POINTS} and {STORY_POINTS} yet."]
    return Dashboard(
        title=f"Estimate accuracy: {name}",
        chart=chart,
        tables=[
            Table(f"Estimates vs actual points in {name}", ["task", "estimate", "actual", "error"], rows)
        ],
        notes=notes,
    )


# --- noise: sprintpilot's own writes ---------------------------------------------------------


def noise_dashboard(engine: Engine, sees: Callable[[list[str]], bool], today: date) -> Dashboard:
    """Writes that reached Asana per day and kind (the rule `eval life` reports), for proposals
    on projects the person can see (`sees` gets the proposal's project gids)."""
    stmt = (
        select(LedgerRow.kind, LedgerRow.result, LedgerRow.updated_at, ProposalRow.body)
        .join(ProposalRow, ProposalRow.id == LedgerRow.proposal_id)
        .where(LedgerRow.status == LedgerStatus.DONE.value)
    )
    per_day: dict[str, Counter[str]] = defaultdict(Counter)
    with read_session(engine) as session:
        for kind, result, updated, body in session.execute(stmt):
            if wrote_to_asana(result) and sees(list((body.get("scope") or {}).get("project_gids") or [])):
                per_day[updated.date().isoformat()][kind] += 1
    days = sorted(per_day)[-NOISE_DAYS:]
    kinds = sorted({k for d in days for k in per_day[d]})
    chart = bar_chart(
        "noise",
        f"sprintpilot's writes to Asana per day by kind (last {len(days)} active days)",
        f"{sum(sum(per_day[d].values()) for d in days)} writes over {len(days)} days in {len(kinds)} kinds.",
        days,
        [Series(k, [per_day[d][k] or None for d in days]) for k in kinds],
        y_label="writes",
    )
    rows = [[d, *(str(per_day[d][k]) for k in kinds), str(sum(per_day[d].values()))] for d in days]
    return Dashboard(
        title="Noise: sprintpilot's writes",
        chart=chart,
        tables=[Table("Writes that reached Asana per day and kind", ["day", *kinds, "total"], rows)],
        notes=[] if days else ["sprintpilot has not written to Asana yet (or not where you can see)."],
    )
