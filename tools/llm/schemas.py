"""Structured outputs of the language engine (validated whether a model or the offline writer wrote them)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class PlanNarrative(BaseModel):
    """The words around a computed sprint plan (prompt `planner_summary`)."""

    model_config = ConfigDict(extra="forbid")

    sprint_goal: str = Field(min_length=3, max_length=300, description="One sentence: the sprint's outcome.")
    narrative: str = Field(
        min_length=10, max_length=3000, description="3-6 sentences: scope, capacity, left out, risks."
    )
    risks: list[str] = Field(default_factory=list, max_length=12, description="Short risk phrases.")
