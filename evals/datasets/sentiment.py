"""Jira comment sentiment sets (SEntiMoji redistribution): polarity and DEVA emotions.

``jira_polarity_<part>.csv``: ``id,text,label,polarity`` (label 1/0/-1 must agree with polarity);
``jira_deva_<part>.csv``: ``id,text,emotion``. `part` is "shared" here ("holdout" in the held-out
copy).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from evals.datasets.csvrows import find_dir, read_rows

Polarity = Literal["positive", "neutral", "negative"]
Emotion = Literal["Excited", "Relax", "Stress", "Depression", "Neutral"]
_LABELS = {1: "positive", 0: "neutral", -1: "negative"}


class PolarityRow(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    text: str
    label: int
    polarity: Polarity

    @model_validator(mode="after")
    def _agree(self) -> PolarityRow:
        if self.label not in _LABELS:
            raise ValueError(f"label must be 1, 0 or -1, got {self.label}")
        if _LABELS[self.label] != self.polarity:
            raise ValueError(f"label {self.label} does not match polarity {self.polarity!r}")
        return self


class DevaRow(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    text: str = Field(min_length=1)
    emotion: Emotion


def _folder(data: Path) -> Path:
    return find_dir(data, "sentiment", "")


def load_polarity(data: Path, part: str = "shared") -> list[PolarityRow]:
    path = _folder(data) / f"jira_polarity_{part}.csv"
    return read_rows(path, PolarityRow, required=["id", "text", "label", "polarity"])


def load_deva(data: Path, part: str = "shared") -> list[DevaRow]:
    return read_rows(_folder(data) / f"jira_deva_{part}.csv", DevaRow, required=["id", "text", "emotion"])
