"""Structured language the forecast and health agents ask the language engine for."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ForecastNarrative(BaseModel):
    headline: str = Field(min_length=1, max_length=200)
    summary: str = Field(min_length=1, max_length=2000)
