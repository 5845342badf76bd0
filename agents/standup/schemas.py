"""Structured outputs the language engine returns for the stand-up (validated with pydantic)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class StandupNarrative(BaseModel):
    model_config = ConfigDict(extra="forbid")

    headline: str = Field(min_length=1, max_length=300)
    summary: str = Field(min_length=1, max_length=2000)


class NudgeText(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=1200)
