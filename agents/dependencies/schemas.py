"""What the language engine returns for the dependency manager (validated; numbers come from code)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class CascadeNarrative(BaseModel):
    headline: str = Field(min_length=1, max_length=200)
    narrative: str = Field(min_length=1, max_length=3000)


class DependentAlert(BaseModel):
    text: str = Field(min_length=1, max_length=2000)
