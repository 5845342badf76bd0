"""Compute a sprint plan from planning inputs: score, capacity, exact selection, assignment.

All numbers come from tools.planning (pure, tested against brute force); this module only wires
them together and keeps what the summary and the evidence need.
"""

from __future__ import annotations

import math
from datetime import date

from pydantic import BaseModel, ConfigDict

from agents.planner.inputs import PlanningInputs
from tools.forecast import VelocityForecast, completion_probability, velocity_forecast
from tools.planning.assignment import assign
from tools.planning.models import Assignment, CapacityPlan, ItemScore, Selection, VelocityStats
from tools.planning.scoring import DEFAULT_FORMULA, Formula, score_items
from tools.planning.selection import select
from tools.planning.velocity import resolve_capacity, split_capacity, velocity_stats


class SprintPlan(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    formula: str
    scores: dict[str, ItemScore]
    velocity: VelocityStats
    capacity: CapacityPlan
    selection: Selection
    assignment: Assignment | None
    unestimated: list[str]  # open items without Story Points (flagged, never silently dropped)
    forecast: VelocityForecast | None = None  # Monte Carlo velocity of the next sprint
    completion_probability: float | None = None  # chance the chosen scope is finished in the sprint

    @property
    def chosen(self) -> list[str]:
        return list(self.selection.chosen)


def compute_plan(
    inputs: PlanningInputs,
    *,
    capacity_override: float | None = None,
    formula: str | None = None,
    exclude_blocked: bool = True,
    today: date | None = None,
    time_limit_s: float = 5.0,
) -> SprintPlan:
    f = Formula(formula or DEFAULT_FORMULA)
    # Work committed to a planned or active sprint is not a candidate; depending on it is fine
    # (it happens in the earlier sprint), so it counts as done for precedence.
    candidates = [it for it in inputs.items if it.gid not in inputs.committed_gids]
    open_items = [it for it in candidates if not it.is_done]
    scores = {s.gid: s for s in score_items(open_items, f, today=today)}
    stats = velocity_stats([s.record for s in inputs.history])
    cap = resolve_capacity(stats, override=capacity_override, people=inputs.people)
    history = [s.record.completed_points for s in inputs.history]
    forecast = velocity_forecast(history) if history else None
    if cap.source == "velocity" and forecast is not None:
        # Capacity from the forecast's median: whole points, so the plan is a coin-flip commitment
        # at worst; the summary states the probability for the scope actually chosen.
        p50 = float(math.floor(forecast.p(50)))
        cap = cap.model_copy(
            update={
                "capacity": p50,
                "explanation": f"{p50:g} points: P50 of the Monte Carlo velocity forecast "
                f"(P85 {forecast.p(85):.0f}, P95 {forecast.p(95):.0f}, trend {forecast.trend_per_sprint:+.1f}"
                f"/sprint); history: {cap.explanation}",
                "per_person": split_capacity(inputs.people, p50) if inputs.people else {},
            }
        )
    selection = select(
        candidates,
        cap.capacity,
        scores=list(scores.values()),
        done_gids=inputs.done_gids | inputs.committed_gids,
        exclude_blocked=exclude_blocked,
        time_limit_s=time_limit_s,
    )
    by_gid = {it.gid: it for it in inputs.items}
    chosen_items = [by_gid[g] for g in selection.chosen]
    assignment = None
    if chosen_items and inputs.people:
        share = cap.per_person or {p.gid: cap.capacity / len(inputs.people) for p in inputs.people}
        # Items are whole points while shares are fractions; rounding each share up keeps people
        # from being flagged for a fraction of a point (the team total is enforced by selection).
        per_person = {gid: float(math.ceil(v - 1e-9)) for gid, v in share.items()}
        assignment = assign(chosen_items, inputs.people, per_person)
    return SprintPlan(
        formula=f.text,
        scores=scores,
        velocity=stats,
        capacity=cap,
        selection=selection,
        assignment=assignment,
        unestimated=[it.gid for it in open_items if it.points is None],
        forecast=forecast,
        completion_probability=(completion_probability(history, selection.total_points) if history else None),
    )
