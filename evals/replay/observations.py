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


class OpenTask(BaseModel):
    """A sprint task still open when the mid-sprint agents ran, with how it really ended."""

    task: str
    points: float | None
    started: bool  # in the sprint's In Progress section at that moment
    failed: bool  # truth: not completed in this sprint (not completed, punted or completed elsewhere)


class StandupObservation(BaseModel):
    status: str
    error: str | None = None
    day: int
    flagged: dict[str, list[str]] = Field(default_factory=dict)  # recorded task id -> at-risk kinds


class RiskObservation(BaseModel):
    status: str
    error: str | None = None
    day: int
    scores: dict[str, int] = Field(default_factory=dict)  # recorded task id -> Risk Score
    slips: int = 0
    pace_source: str | None = None
    model_status: str | None = None  # delay-risk model: "trained", "not_enough_history", "off"
    model_examples: int = 0
    model_flagged: list[str] = Field(default_factory=list)  # recorded task ids the model flagged
    model_seconds: float | None = None


class RetroNumbers(BaseModel):
    """Commitment numbers: the retro's (from its evidence) or the dataset's on the same definitions."""

    committed_items: int
    committed_points: float
    added_items: int
    added_points: float
    completed_items: int
    completed_points: float
    carry_over_items: int
    carry_over_points: float


class RetroObservation(BaseModel):
    status: str
    error: str | None = None
    numbers: RetroNumbers | None = None
    completed: list[str] = Field(default_factory=list)
    carry_over: list[str] = Field(default_factory=list)
    added: list[str] = Field(default_factory=list)


class RetroTruth(BaseModel):
    """The recording's outcome, restated on the retro's definitions (see scorer_retro)."""

    numbers: RetroNumbers
    completed_points_report: float  # the sprint report's sum (outcome.completed_points)
    completed_points_items: float  # final points summed over outcome.completed_items
    punted_items: int
    punted_points: float
    completed: list[str]
    carry_over: list[str]
    added: list[str]
    # Diagnostics for mismatches: members closed before the sprint started (in an earlier sprint), and
    # members whose final points the Story Points field's precision cannot hold (the sandbox rounds).
    closed_before_start: list[str] = Field(default_factory=list)
    unrepresentable_points: list[str] = Field(default_factory=list)


class SprintAgentsObservation(BaseModel):
    """Extra agent runs of one sprint: stand-up and risk scan at mid-sprint, retro at the end."""

    mid_day: int | None = None
    open_tasks: list[OpenTask] = Field(default_factory=list)
    standup: StandupObservation | None = None
    risk: RiskObservation | None = None
    retro: RetroObservation | None = None
    retro_truth: RetroTruth | None = None


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
    agents: SprintAgentsObservation | None = None  # stand-up / risk / retro runs (None: not run)
