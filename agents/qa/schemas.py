"""What the language engine may write for a QA review: two sentences around the code-built list."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class QaCommentText(BaseModel):
    """Only phrasing: the findings list, the outcome and every action are decided by code."""

    model_config = ConfigDict(extra="forbid")

    headline: str = Field(min_length=1, max_length=240)
    closing: str = Field(min_length=1, max_length=400)
