"""Refine one task: estimate by comparison, acceptance criteria, risk, AI Priority Score.

All numbers come from tools (estimation, refinement); nothing here reads task text for
instructions: names and notes are only fed to the estimator and the criteria parser.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from agents.triage.inputs import TriageInputs, story_points
from tools.asana.field_names import (
    AI_PRIORITY_SCORE,
    AI_SUGGESTION,
    BUSINESS_VALUE,
    ESTIMATED_STORY_POINTS,
    PRIORITY,
    RISK_SCORE,
    STATUS,
)
from tools.asana.models import Task
from tools.estimation import StoryPointEstimator
from tools.refinement.criteria import CriteriaResult, extract_criteria
from tools.refinement.priority import PriorityScore, priority_score
from tools.refinement.risk import RiskAssessment, assess_risk

AI_FIELDS = (ESTIMATED_STORY_POINTS, AI_PRIORITY_SCORE, RISK_SCORE, AI_SUGGESTION)
SIMILAR_SHOWN = 3


class SimilarTask(BaseModel):
    gid: str
    name: str
    points: float
    similarity: float


class EstimateView(BaseModel):
    points: float
    low: float
    high: float
    method: str
    confidence: float
    similar: list[SimilarTask] = Field(default_factory=list)
    fallback: str | None = None  # why the product's default configuration was not used


class TaskAssessment(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    gid: str
    name: str
    story_points: float | None
    observed: dict[str, Any]  # current values of the AI fields (for the stale check)
    fields_available: list[str]
    estimate: EstimateView | None
    criteria: CriteriaResult
    risk: RiskAssessment
    priority: PriorityScore
    open_dependencies: int
    dependents: int
    age_days: float | None


def _estimate(
    estimator: StoryPointEstimator | None, task: Task, names: dict[str, str]
) -> EstimateView | None:
    if estimator is None:
        return None
    est = estimator.estimate(task.name or "", task.notes or "")
    similar = [
        SimilarTask(
            gid=n.id, name=names.get(n.id, n.title), points=n.points, similarity=round(n.similarity, 3)
        )
        for n in est.neighbours[:SIMILAR_SHOWN]
    ]
    return EstimateView(
        points=est.points,
        low=est.low,
        high=est.high,
        method=est.method,
        confidence=round(est.confidence, 3),
        similar=similar,
        fallback=est.fallback,
    )


def assess_task(
    task: Task,
    inputs: TriageInputs,
    estimator: StoryPointEstimator | None,
    now: datetime,
) -> TaskAssessment:
    names = {t.gid: t.name or t.gid for t in inputs.history}
    estimate = _estimate(estimator, task, names)
    criteria = extract_criteria(task.notes)
    open_deps = [d.gid for d in task.dependencies if d.gid not in inputs.completed_gids]
    dependents = [d.gid for d in task.dependents if d.gid not in inputs.completed_gids]
    status = task.field(STATUS)
    blocked = (isinstance(status, str) and status.strip().lower() == "blocked") or bool(open_deps)
    risk = assess_risk(
        name=task.name or "",
        notes=task.notes or "",
        points=estimate.points if estimate else story_points(task),
        low=estimate.low if estimate else None,
        high=estimate.high if estimate else None,
        confidence=estimate.confidence if estimate else None,
        has_criteria=criteria.present,
        open_dependencies=len(open_deps),
        blocked=blocked,
    )
    age = None
    if task.created_at is not None:
        created = task.created_at if task.created_at.tzinfo else task.created_at.replace(tzinfo=now.tzinfo)
        age = max(0.0, (now - created).total_seconds() / 86400.0)
    priority = priority_score(
        business_value=task.number(BUSINESS_VALUE),
        priority=task.field(PRIORITY) if isinstance(task.field(PRIORITY), str) else None,
        age_days=age,
        dependents=len(dependents),
        risk=risk.score,
    )
    return TaskAssessment(
        gid=task.gid,
        name=task.name or task.gid,
        story_points=story_points(task),
        observed={f: task.field(f) for f in AI_FIELDS if task.has_field(f)},
        fields_available=[f for f in AI_FIELDS if task.has_field(f)],
        estimate=estimate,
        criteria=criteria,
        risk=risk,
        priority=priority,
        open_dependencies=len(open_deps),
        dependents=len(dependents),
        age_days=None if age is None else round(age, 1),
    )


def note_variables(a: TaskAssessment) -> dict[str, Any]:
    """The variables of the `triage_comment` prompt for one assessment."""
    e = a.estimate
    return {
        "task_name": a.name,
        "estimate_points": e.points if e else None,
        "estimate_low": e.low if e else None,
        "estimate_high": e.high if e else None,
        "estimate_method": e.method if e else "none",
        "confidence": e.confidence if e else 0,
        "similar_tasks": [s.model_dump() for s in e.similar] if e else [],
        "criteria": [c.text for c in a.criteria.items],
        "criteria_count": len(a.criteria.items),
        "priority_score": a.priority.score,
        "risk_score": a.risk.score,
        "risk_flag": a.risk.flag,
        "risk_reasons": [r.text for r in a.risk.reasons],
        "risk_codes": [r.code for r in a.risk.reasons],
    }
