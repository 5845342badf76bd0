"""EMSE2017 issue-delay data (Choetkiertikul et al.): ``delays/emse2017/<project>_due.csv``.

Features as of the moment a due date was assigned; target ``delaydays`` (0 = on time). "NULL"
cells become None. Topic columns ``topic_10..topic_400`` are kept in `topics`.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from evals.datasets.csvrows import find_dir, read_rows

# The eight ecosystems of the paper (seven shared, mulesoft held out); the eval finds files itself.
DELAY_PROJECTS = ("apache", "duraspace", "javanet", "jboss", "jira", "moodle", "wso2", "mulesoft")
TOPIC_COLUMNS = ("topic_10", "topic_100", "topic_200", "topic_300", "topic_400")


class DelayRow(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    issuekey: str = Field(min_length=1)
    delaydays: float = Field(ge=0)
    openeddate: datetime
    type: str
    discussion: float
    repetition: int
    perofdelay: float
    workload: float
    priority: str | None
    no_comment: int
    no_priority_change: int
    no_fixversion: int
    no_fixversion_change: int
    no_issuelink: int
    no_blocking: int
    no_blockedby: int
    no_affectversion: int
    reporterrep: float
    no_des_change: int
    progress_time: float = Field(alias="ProgressTime")
    remaining_day: float = Field(alias="RemainingDay")
    topics: dict[str, int] = Field(default_factory=dict)

    @property
    def delayed(self) -> bool:
        return self.delaydays > 0


REQUIRED = [f.alias or n for n, f in DelayRow.model_fields.items() if n != "topics"]


def _prepare(raw: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {k: (None if v == "NULL" else v) for k, v in raw.items()}
    out["topics"] = {t: out.pop(t) for t in TOPIC_COLUMNS if t in out and out[t] is not None}
    return out


SUFFIX = "_due.csv"


def delays_dir(data: Path) -> Path:
    """The EMSE2017 folder under `data` (or `data` itself); DatasetError when none exists."""
    return find_dir(data, "delays/emse2017", "emse2017", "")


def discover_projects(data: Path) -> list[str]:
    """Every ``<project>_due.csv`` in the EMSE2017 folder, sorted: whichever projects are there."""
    folder = delays_dir(data)
    return sorted(p.name[: -len(SUFFIX)].lower() for p in folder.glob(f"*{SUFFIX}") if p.is_file())


def load_delays(data: Path, project: str) -> list[DelayRow]:
    folder = delays_dir(data)
    return read_rows(folder / f"{project.lower()}{SUFFIX}", DelayRow, required=REQUIRED, prepare=_prepare)
