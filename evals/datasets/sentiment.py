"""Jira comment sentiment sets (SEntiMoji redistribution): polarity and DEVA emotions.

``jira_polarity_<part>.csv``: ``id,text,label,polarity`` (label 1/0/-1 must agree with polarity);
``jira_deva_<part>.csv``: ``id,text,emotion``. `part` is "shared" here ("holdout" in the held-out
copy). `discover` finds every such file anywhere under a folder.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from evals.datasets.csvrows import DatasetError, find_dir, read_rows

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
    return read_polarity(_folder(data) / f"jira_polarity_{part}.csv")


def load_deva(data: Path, part: str = "shared") -> list[DevaRow]:
    return read_deva(_folder(data) / f"jira_deva_{part}.csv")


TASKS = ("polarity", "deva")
_FILE = re.compile(r"jira_(polarity|deva)_.+\.csv")


def discover(data: Path) -> dict[str, list[Path]]:
    """Every `jira_polarity_*.csv` / `jira_deva_*.csv` under `data` (any depth), by task, sorted."""
    if not data.is_dir():
        raise DatasetError(data, None, "dataset folder not found")
    found: dict[str, list[Path]] = {task: [] for task in TASKS}
    for path in sorted(data.rglob("jira_*_*.csv")):
        m = _FILE.fullmatch(path.name)
        if m and path.is_file():
            found[m.group(1)].append(path)
    return found


def read_polarity(path: Path) -> list[PolarityRow]:
    return read_rows(path, PolarityRow, required=["id", "text", "label", "polarity"])


def read_deva(path: Path) -> list[DevaRow]:
    return read_rows(path, DevaRow, required=["id", "text", "emotion"])
