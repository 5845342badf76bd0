"""What the language engine writes for a retro (the numbers are computed, never written)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class RetroNarrative(BaseModel):
    went_well: list[str] = Field(default_factory=list, max_length=8)
    did_not_go_well: list[str] = Field(default_factory=list, max_length=8)
    review_narrative: str = Field(description="sprint-review draft: what was delivered, from the Done tasks")
