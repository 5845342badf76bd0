"""What a replay collects per sprint: the agents' proposals reduced to comparable numbers, beside
what really happened. Plain pydantic so the JSON report is byte-stable (no ids, no wall times)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class PlannerObservation(BaseModel):
    status: str  # the run's status: awaiting_approval (normal), done, error
    error: str | None = None
    capacity: float | None = None  # the plan's predicted velocity (what it expects to complete)
    capacity_source: str | None = None
    velocity_median: float | None = None
    predicted_low: float | None = None
    predicted_high: float | None = None
    selected_points: float | None = None
    chosen: list[str] = Field(default_factory=list)  # recorded task ids
    candidates: int = 0
    actions: int = 0


class TriageObservation(BaseModel):
    task: str
    day: int
    estimate: float | None
    low: float | None
    high: float | None
    actual: float | None  # final story points (None: never estimated)
    median_baseline: float | None  # median of the completed history the estimator compared with
    history_size: int
    criteria: int
    risk: int
    priority: float
    fields_written: int
    comment_posted: bool


class SprintObservation(BaseModel):
    id: str
    sequence: int
    name: str
    start_on: str
    end_on: str
    history_sprints: int
    last_velocity: float | None  # naive baseline: the previous sprint's completed points
    actual_completed_points: float
    actual_completed_items: list[str]
    starting_scope: list[str]
    priority_baseline_items: list[str] = Field(default_factory=list)
    planner: PlannerObservation | None = None
    triage: list[TriageObservation] = Field(default_factory=list)
    triage_runs: int = 0
    triage_errors: list[str] = Field(default_factory=list)
