"""Plain data shapes for the planner analytics.

These are deliberately Asana-agnostic: the planner agent maps Asana tasks/users/projects onto
them, and everything in tools/planning works on these alone (no I/O), so it can be tested and
benchmarked on synthetic data.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class BacklogItem(_Model):
    """One backlog task as the planner sees it."""

    gid: str
    name: str = ""
    points: float | None = None
    business_value: float | None = None
    effort: float | None = None
    priority: str | None = None  # "Critical" | "High" | "Medium" | "Low" (Asana enum name)
    status: str | None = None  # "Not Started" | "In Progress" | "Blocked" | "Ready for Review" | "Done"
    tags: list[str] = Field(default_factory=list)
    assignee_gid: str | None = None
    depends_on: list[str] = Field(default_factory=list)  # gids this item waits for
    completed: bool = False
    created_at: datetime | None = None

    @property
    def is_done(self) -> bool:
        return self.completed or (self.status or "").strip().lower() == "done"


class Person(_Model):
    """A team member with skills, history and (optionally) stated availability."""

    gid: str
    name: str = ""
    skills: list[str] = Field(default_factory=list)
    # tag -> story points this person completed on items carrying that tag (past sprints)
    tag_history: dict[str, float] = Field(default_factory=dict)
    # total story points completed in the past sprints considered (basis of their velocity share)
    past_points: float = 0.0
    # explicit points available next sprint; wins over the historical share when given
    availability_points: float | None = None
    # fraction of a normal sprint the person is around (holidays, part time); scales the share
    availability_ratio: float = Field(default=1.0, ge=0.0)


class SprintRecord(_Model):
    """Outcome of one past sprint (one sprint project)."""

    name: str
    start_on: date | None = None
    end_on: date | None = None
    committed_points: float = 0.0
    completed_points: float = 0.0
    completed_items: int = 0
    carried_over_items: int = 0


class ItemScore(_Model):
    """Score of one item under a formula, with the arithmetic shown."""

    gid: str
    score: float
    explanation: str
    inputs: dict[str, float | None] = Field(default_factory=dict)
    flags: list[str] = Field(default_factory=list)
    excluded: bool = False
    reason: str | None = None


class Selection(_Model):
    """Result of the precedence-constrained selection under capacity."""

    chosen: list[str]  # in dependency order (prerequisites first)
    total_score: float
    total_points: float
    capacity: float
    status: Literal["optimal", "feasible"]
    gap: float  # (bound - total_score) / max(|bound|, 1e-9); 0.0 when optimal
    bound: float  # best proven upper bound on the (quantised) optimum, in score units
    solver: str
    excluded: dict[str, str]  # gid -> why it cannot be chosen at all
    over_capacity: dict[str, float]  # gid -> points (lower bound) it needs with its prerequisites
    cycles: list[list[str]]  # each lists items in "waits for" order: [a, b] = a waits for b waits for a
    score_scale: float  # integer objective = round(score * score_scale); see selection docstring
    candidates: int  # items that could be chosen after exclusions
    model_items: int  # items left for the solver after presolve
    solve_items: int = 0  # left for CP-SAT after LP fixing and dominance (0: proven before)
    notes: list[str] = Field(default_factory=list)


class VelocityStats(_Model):
    """Historical velocity summary and the capacity recommended from it."""

    sprints: list[str]
    completed: list[float]
    mean: float | None
    median: float | None
    stdev: float | None
    min: float | None
    max: float | None
    last3_mean: float | None
    commitment_ratio: float | None  # mean completed / committed over sprints with a commitment
    recommended_capacity: float | None
    predicted_low: float | None
    predicted_high: float | None
    rule: str
    warnings: list[str] = Field(default_factory=list)


class CapacityPlan(_Model):
    """The capacity used for a sprint and where it came from."""

    capacity: float
    source: Literal["override", "availability", "velocity", "none"]
    explanation: str
    per_person: dict[str, float] = Field(default_factory=dict)
    warnings: list[str] = Field(default_factory=list)


class PersonLoad(_Model):
    gid: str
    name: str
    capacity: float
    assigned_points: float
    load_ratio: float  # assigned / capacity (inf when capacity is 0 and something is assigned)
    items: list[str]
    skill_match: float  # points-weighted mean affinity of the assigned items, 0..1
    over_capacity: bool


class AssignmentFlag(_Model):
    person_gid: str | None
    item_gid: str | None
    kind: Literal["over_capacity", "kept_assignee_moved", "unknown_assignee", "missing_points"]
    message: str


class Assignment(_Model):
    assignments: dict[str, str]  # item gid -> person gid
    loads: list[PersonLoad]
    flags: list[AssignmentFlag]
    solver: str
    status: Literal["optimal", "feasible", "greedy"]
    max_load_ratio: float
    skill_match: float  # points-weighted mean affinity over all assigned items
