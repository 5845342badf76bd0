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
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select

from agents.forecast.compute import FAN_SPRINTS, ForecastResult, compute_forecast
from agents.health.inputs import read_portfolio
from agents.planner.inputs import PlanningInputs, read_planning_inputs
from agents.standup.compute import compute_standup, sprint_window
from agents.standup.inputs import StandupInputs, read_standup_inputs
from graphs.ports import LedgerStatus, wrote_to_asana
from service.console.charts import Fan, Series, bar_chart, fmt, line_chart, velocity_fan_chart
from service.db.engine import read_session
from service.db.models import LedgerRow, ProposalRow
from tools.asana.field_names import ESTIMATED_STORY_POINTS, STORY_POINTS
from tools.asana.fields import TaskView
from tools.estimation.backtest import MIN_HISTORY, time_ordered_backtest
from tools.estimation.models import PastTask
from tools.health.score import health_score, health_trend
from tools.planning.phase import SPRINT_NAME, is_sprint_name, sprint_phase
from tools.standup.activity import changes_in_window
from tools.standup.blockers import DEFAULT_STALE_DAYS
from tools.standup.burndown import Burndown, BurndownPoint, ScopeChange
from tools.standup.models import ChangeKind
from tools.standup.risk import DEFAULT_DUE_SOON_DAYS

DEFAULT_BACKLOG = "Product Backlog"
DEFAULT_PORTFOLIO = "Mobile Portfolio"  # the health agent's default (agents/health/specialist.py)
NOISE_DAYS = 30
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_STORY_READS = 150  # per sprint page: a task's stories are one request (per 100 stories)
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
    source: str | None = None  # where the numbers come from, when a page has several sources
    source_text: str = ""  # that, said in a sentence on the page
    # A picker of what the page can show instead: (value, label), and the value shown.
    choices: list[tuple[str, str]] = field(default_factory=list)
    chosen: str = ""


# --- sprint burndown -------------------------------------------------------------------------


def sprint_choices(asana: Any, workspace: str, today: date) -> list[tuple[Any, str]]:
    """The visible sprint projects with their phase, newest first (by start date, then number)."""
    found = [(p, sprint_phase(p, today)) for p in asana.projects(workspace) if is_sprint_name(p.name)]

    def newest(pair: tuple[Any, str]) -> tuple[date, int]:
        p = pair[0]
        number = SPRINT_NAME.match(p.name or "")
        return (p.start_on or p.due_on or date.min, int(number.group(1)) if number else 0)

    return sorted(found, key=newest, reverse=True)


def default_sprint(choices: list[tuple[Any, str]]) -> str:
    """The sprint a plain /dashboards/sprint shows: the one active today (the newest if several),
    else the last one finished; a planned sprint has no burndown yet."""
    for wanted in ("active", "finished"):
        for project, phase in choices:
            if phase == wanted:
                return str(project.gid)
    raise LookupError("no sprint project has started yet; name one with ?project=")


@dataclass
class SprintStories:
    """What the stories say about a sprint's scope since its start (not only since the last
    stand-up, as the stand-up reads them): every sprint task's stories, and the removals found on
    the tasks of the sprint's other projects (a removed task is no longer listed in the sprint)."""

    stories: dict[str, list[Any]]
    removed: list[Removal]
    names: dict[str, str]
    capped: bool


@dataclass(frozen=True)
class Removal:
    """A task taken out of the sprint after its first day: in its scope from `joined` (None: the
    start) until `left`."""

    change: ScopeChange
    joined: datetime | None
    left: datetime
    completed_at: datetime | None


def sprint_stories(asana: Any, inputs: StandupInputs, start: datetime) -> SprintStories:
    sprint = inputs.project.gid
    raw = [t for t in asana.project_tasks(sprint, TaskView.PLANNING) if not t.parent]
    names = {t.gid: t.name or t.gid for t in raw}
    budget = MAX_STORY_READS
    touched = [t.gid for t in raw if t.modified_at is not None and t.modified_at >= start][:budget]
    stories = asana.stories_many(touched) if touched else {}
    capped = len(touched) == budget
    budget -= len(touched)
    # The sprint's tasks were planned from these (the backlog); a removed task is still there.
    homes = {
        m.project.gid
        for t in raw
        for m in t.memberships
        if m.project is not None and m.project.gid != sprint and not is_sprint_name(m.project.name)
    }
    candidates: list[Any] = []
    for home in sorted(homes):
        for t in asana.project_tasks(home, TaskView.PLANNING):
            if t.gid not in names and t.modified_at is not None and t.modified_at >= start:
                candidates.append(t)
    candidates.sort(key=lambda t: t.modified_at, reverse=True)
    capped = capped or len(candidates) > budget
    candidates = candidates[: max(budget, 0)]
    removed: list[Removal] = []
    found = asana.stories_many([t.gid for t in candidates]) if candidates else {}
    # Like additions, a removal on the first day is part of planning, not a change of scope.
    after_planning = start + timedelta(days=1)
    for t in candidates:
        names[t.gid] = t.name or t.gid
        moves = changes_in_window({t.gid: found.get(t.gid, [])}, sprint, EPOCH, inputs.now)
        left = [c for c in moves if c.kind == ChangeKind.REMOVED and c.at >= after_planning]
        if not left:
            continue
        out = left[-1].at
        joins = [c.at for c in moves if c.kind == ChangeKind.ADDED and c.at < out]
        joined = joins[-1] if joins and joins[-1] >= after_planning else None
        points = t.number(STORY_POINTS) or 0.0
        change = ScopeChange(
            day=out.astimezone(start.tzinfo).date(), task_gid=t.gid, points=-points, kind="removed"
        )
        removed.append(Removal(change, joined, out, t.completed_at if t.completed else None))
    return SprintStories(stories, removed, names, capped)


def with_removals(bd: Burndown, removals: list[Removal], now: datetime) -> tuple[list[BurndownPoint], float]:
    """The burndown's daily points, and its scope at the start, with each removed task counted
    while it was in the sprint: `compute_burndown` sees only the tasks in it now, so without this
    the scope line would never show the drop."""
    if not removals:
        return bd.points, bd.initial_scope
    start_dt = datetime.combine(bd.start, time.min, tzinfo=now.tzinfo)
    initial = bd.initial_scope + sum(-r.change.points for r in removals if r.joined is None)
    n = max(len(bd.days), 1)
    out = []
    for i, p in enumerate(bd.points, start=1):
        cutoff = min(datetime.combine(p.day, time.max, tzinfo=now.tzinfo), now)
        scope, done = p.scope, p.done
        for r in removals:
            if (r.joined or start_dt) <= cutoff < r.left:
                scope -= r.change.points
                if r.completed_at is not None and r.completed_at <= cutoff:
                    done -= r.change.points
        out.append(
            BurndownPoint(
                day=p.day, scope=scope, remaining=scope - done, ideal=initial * (1 - i / n), done=done
            )
        )
    return out, initial


def sprint_dashboard(asana: Any, workspace: str, project: str | None, now: datetime, tz: str) -> Dashboard:
    choices = sprint_choices(asana, workspace, now.astimezone(ZoneInfo(tz)).date())
    ref = project or default_sprint(choices)
    inputs = read_standup_inputs(asana, workspace, ref, now, ZoneInfo(tz))
    start, _ = sprint_window(inputs)
    start_dt = datetime.combine(start, datetime.min.time(), tzinfo=inputs.now.tzinfo)
    found = sprint_stories(asana, inputs, start_dt)
    # The stand-up's own computation, over the whole sprint's stories.
    whole = inputs.model_copy(update={"stories": found.stories, "since": min(start_dt, inputs.now)})
    st = compute_standup(whole, stale_days=DEFAULT_STALE_DAYS, due_soon_days=DEFAULT_DUE_SOON_DAYS)
    bd = st.burndown
    removed = [r.change for r in found.removed]
    points, initial = with_removals(bd, found.removed, inputs.now)
    name = inputs.project.name or inputs.project.gid
    by_day = {p.day: p for p in points}
    labels = [d.strftime("%b %d") for d in bd.days]

    def column(attr: str) -> list[float | None]:
        return [getattr(by_day[d], attr) if d in by_day else None for d in bd.days]

    chart = line_chart(
        "burndown",
        f"Burndown of {name}, {bd.start.isoformat()} to {bd.end.isoformat()}",
        f"Remaining points per working day ({fmt(bd.remaining_now)} of {fmt(bd.scope_now)} now), the "
        f"ideal line and the scope line ({fmt(initial)} at the start). Status: {bd.status_type}.",
        labels,
        [
            Series("remaining", column("remaining"), step=True),
            Series("ideal", column("ideal")),
            Series("scope", column("scope"), step=True),
        ],
    )
    rows = [[p.day.isoformat(), fmt(p.scope), fmt(p.remaining), fmt(p.ideal), fmt(p.done)] for p in points]
    all_changes = sorted([*bd.scope_changes, *removed], key=lambda c: (c.day, c.kind, c.task_gid))
    changes = [
        [c.day.isoformat(), found.names.get(c.task_gid, c.task_gid), c.kind, f"{c.points:+g}"]
        for c in all_changes
    ]
    notes = [*bd.anomalies, f"Status {bd.status_type}; gap {bd.gap:.0%} of the scope."]
    if found.capped:
        notes.append(
            f"Only the stories of {MAX_STORY_READS} recently changed tasks were read; "
            "scope changes may be missing."
        )
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
        notes=notes,
        choices=[(str(p.gid), f"{p.name} ({phase})") for p, phase in choices],
        chosen=str(inputs.project.gid),
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


SOURCE_PAIRS = "estimates"
SOURCE_BACKTEST = "backtest"


def accuracy_dashboard(asana: Any, workspace: str, project: str | None, today: date) -> Dashboard:
    """sprintpilot's estimates (Estimated Story Points) against the points finished tasks carry;
    with no such pair yet (a team new to sprintpilot), a time-ordered backtest of the same
    estimator on the finished tasks instead. The page says which one it shows."""
    inputs = read_planning_inputs(asana, workspace, project or DEFAULT_BACKLOG, today=today)
    name = inputs.backlog.name or inputs.backlog.gid
    pairs: list[tuple[str, str, float, float]] = []  # (task, finished on, estimate, actual)
    for task in inputs.tasks.values():
        estimate, actual = task.number(ESTIMATED_STORY_POINTS), task.number(STORY_POINTS)
        if task.completed and estimate is not None and actual is not None:
            finished = task.completed_at.date().isoformat() if task.completed_at else ""
            pairs.append((task.name or task.gid, finished, estimate, actual))
    source = SOURCE_PAIRS
    if pairs:
        pairs.sort(key=lambda p: (p[1], p[0]))
        what = f"{len(pairs)} finished tasks with an {ESTIMATED_STORY_POINTS} value"
        told = (
            f"Source: sprintpilot's own estimates ({ESTIMATED_STORY_POINTS}) against the "
            f"{STORY_POINTS} of the finished tasks."
        )
    else:
        source = SOURCE_BACKTEST
        finished_tasks = [
            (
                PastTask(id=t.gid, title=t.name or t.gid, description=t.notes or "", points=points),
                t.completed_at,
            )
            for t in inputs.tasks.values()
            if t.completed and t.completed_at is not None and (points := t.number(STORY_POINTS) or 0) > 0
        ]
        rows_bt = time_ordered_backtest(finished_tasks)
        pairs = [(r.task.title, r.finished_at.date().isoformat(), r.estimate, r.task.points) for r in rows_bt]
        what = f"{len(pairs)} finished tasks, each estimated from the tasks finished before it"
        told = (
            f"Source: backtest. No finished task in {name} has both {ESTIMATED_STORY_POINTS} and "
            f"{STORY_POINTS} yet, so sprintpilot's estimator (the one triage uses) was run on the "
            f"{len(finished_tasks)} finished tasks in completion order, each estimated only from the "
            f"tasks finished before it (the first {MIN_HISTORY} only seed it)."
        )
    errors = [e - a for _, _, e, a in pairs]
    from evals.replay.scorers import bias, mae  # the evals' own error metrics

    # The chart groups tasks by their actual size (a bar per task is unreadable past a few dozen);
    # the table below keeps every task.
    by_size: dict[float, list[float]] = defaultdict(list)
    for _, _, e, a in pairs:
        by_size[a].append(e)
    sizes = sorted(by_size)
    chart = bar_chart(
        "accuracy",
        f"Estimated vs actual story points of finished tasks in {name} "
        f"({'backtest' if source == SOURCE_BACKTEST else 'sprintpilot estimates'})",
        f"{what}, grouped by actual points: the mean estimate beside the actual size; mean absolute "
        f"error {fmt(mae(errors))}, bias {fmt(bias(errors))} points (positive: estimates were high).",
        [f"{fmt(a)} pt (n={len(by_size[a])})" for a in sizes],
        [
            Series("actual", list(sizes)),
            Series("mean estimate", [sum(by_size[a]) / len(by_size[a]) for a in sizes]),
        ],
    )
    rows = [[n, d, fmt(e), fmt(a), fmt(e - a)] for n, d, e, a in pairs]
    if pairs:
        notes = [
            f"Mean absolute error {fmt(mae(errors))}, bias {fmt(bias(errors))} points "
            f"over {len(pairs)} tasks."
        ]
    else:
        notes = [f"Too few finished tasks with {STORY_POINTS} in {name} to backtest the estimator."]
    caption = (
        f"Estimates vs actual points in {name}"
        if source == SOURCE_PAIRS
        else f"Backtest of the estimator on finished tasks in {name} (estimated from earlier tasks only)"
    )
    return Dashboard(
        title=f"Estimate accuracy: {name}",
        chart=chart,
        tables=[Table(caption, ["task", "finished", "estimate", "actual", "error"], rows)],
        notes=notes,
        source=source,
        source_text=told,
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
