"""Sprint datasets in their native formats: TSE2017 iterations/issues/links and Koralage sprint reports.

`--data DIR` may be the datasets root (``DIR/sprints/...``), the ``sprints`` folder, or the
source folder itself. Nothing is copied; rows are validated pydantic models and a malformed file
raises `DatasetError` naming the file and line.

TSE2017 (Choetkiertikul et al. 2017): ``<Project>/<project>_iteration_<T>.csv`` (T = 0, 30, 50,
80 % of the sprint), ``<project>_issue_<T>.csv`` (per-issue features, no key), and
``<project>_issuelink_0.csv``. Committed points at T = ``vel_starttime + vel_added -
vel_removed``; delivered = committed + ``vel_diff``.

Koralage (2020): ``<Project>/sprints.csv`` (dates like ``15-Apr-13``),
``sprint_issue_membership.csv`` and ``issues.csv`` (texts; "null" = empty).
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from evals.datasets.csvrows import DatasetError, find_dir, nullify, read_rows

TSE_PROJECTS = ("JBoss", "JIRA", "MongoDB", "Spring", "Apache")
TSE_TIMES = (0, 30, 50, 80)


class _Row(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


# --- TSE2017 -----------------------------------------------------------------------------------


class IterationRow(_Row):
    boardid: int
    sprintid: int
    name: str
    vel_diff: float
    planday: float
    no_issue_starttime: int
    vel_starttime: float
    no_issue_added: int
    vel_added: float
    no_issue_removed: int
    vel_removed: float
    no_issuetodo: int
    vel_todo: float
    no_issueinprogress: int
    vel_inprogress: float
    no_issuedone: int
    vel_done: float
    no_admin: int
    no_teammember: int

    @property
    def committed(self) -> float:
        return self.vel_starttime + self.vel_added - self.vel_removed

    @property
    def delivered(self) -> float:
        return self.committed + self.vel_diff


class IssueFeatureRow(_Row):
    boardid: int
    sprintid: int
    type: str
    priority: str
    no_comment: int
    no_affectversion: int
    no_fixversion: int
    no_issuelink: int
    no_blocking: int
    no_blockedby: int
    no_fixversion_change: int
    no_priority_change: int
    no_des_change: int
    gunning_fog: str


class IssueLinkRow(_Row):
    idissuelink: int
    issuekey: str = Field(min_length=1)
    linkedIssueKey: str = Field(min_length=1)  # noqa: N815 - upstream column name
    name: str


class Tse2017Project(BaseModel):
    project: str
    time: int
    iterations: list[IterationRow]
    issues: list[IssueFeatureRow]
    links: list[IssueLinkRow]


def _tse_dir(data: Path, project: str) -> Path:
    return find_dir(data, f"sprints/tse2017/{project}", f"tse2017/{project}", project)


def load_tse2017_iterations(data: Path, project: str, time: int = 0) -> list[IterationRow]:
    return read_tse_iterations(_tse_dir(data, project), project.lower(), time)


def load_tse2017_issues(data: Path, project: str, time: int = 0) -> list[IssueFeatureRow]:
    return read_tse_issues(_tse_dir(data, project), project.lower(), time)


def read_tse_iterations(folder: Path, stem: str, time: int = 0) -> list[IterationRow]:
    """``<folder>/<stem>_iteration_<time>.csv`` (a discovered folder, whatever its project is called)."""
    if time not in TSE_TIMES:
        raise ValueError(f"prediction time must be one of {TSE_TIMES}, got {time}")
    path = folder / f"{stem}_iteration_{time}.csv"
    return read_rows(path, IterationRow, required=list(IterationRow.model_fields))


def read_tse_issues(folder: Path, stem: str, time: int = 0) -> list[IssueFeatureRow]:
    path = folder / f"{stem}_issue_{time}.csv"
    return read_rows(path, IssueFeatureRow, required=list(IssueFeatureRow.model_fields))


def load_tse2017_links(data: Path, project: str) -> list[IssueLinkRow]:
    path = _tse_dir(data, project) / f"{project.lower()}_issuelink_0.csv"
    return read_rows(path, IssueLinkRow, required=list(IssueLinkRow.model_fields))


def load_tse2017(data: Path, project: str, time: int = 0, *, with_issues: bool = True) -> Tse2017Project:
    """One TSE2017 project at one prediction time (issue features exist for T = 0 and 30 only)."""
    return Tse2017Project(
        project=project,
        time=time,
        iterations=load_tse2017_iterations(data, project, time),
        issues=load_tse2017_issues(data, project, time) if with_issues else [],
        links=load_tse2017_links(data, project),
    )


class TseSource(BaseModel):
    """A TSE2017 project found on disk: its folder and the file-name stem of its CSVs."""

    project: str
    folder: Path
    stem: str


_ITERATION_0 = "_iteration_0.csv"


def discover_tse2017(data: Path) -> list[TseSource]:
    """Every folder under `data` holding ``<stem>_iteration_0.csv`` (one project per folder), by name.

    The project is named after its folder (``tse2017/Apache`` -> Apache), so a held-out folder with
    other projects in the same format works without any list of known names.
    """
    found: dict[Path, TseSource] = {}
    for path in sorted(data.rglob(f"*{_ITERATION_0}")):
        stem = path.name[: -len(_ITERATION_0)]
        if stem and path.parent not in found:
            found[path.parent] = TseSource(project=path.parent.name, folder=path.parent, stem=stem)
    return sorted(found.values(), key=lambda s: s.project.casefold())


def discover_koralage(data: Path) -> list[Path]:
    """Every folder under `data` holding a Koralage ``sprints.csv`` (Jira sprint reports), by name."""
    return sorted({p.parent for p in data.rglob("sprints.csv")}, key=lambda f: f.name.casefold())


def require_folder(data: Path) -> None:
    """A clear one-line error (no traceback) when `--data` is missing or not a folder."""
    if not data.exists():
        raise DatasetError(data, None, "dataset folder not found")
    if not data.is_dir():
        raise DatasetError(data, None, "not a folder")


# --- Koralage ----------------------------------------------------------------------------------

MembershipStatus = Literal["Completed", "Punted", "CompletedInAnotherSprint", "NotCompletedWithinSprint"]
# Upstream spells one status "CompletedInNotherSprint"; both spellings are accepted.
_STATUS_ALIASES = {"CompletedInNotherSprint": "CompletedInAnotherSprint"}


def parse_jira_date(value: str) -> date:
    """Jira sprint-report dates such as ``15-Apr-13``."""
    return datetime.strptime(value.strip(), "%d-%b-%y").date()


class KoralageSprint(_Row):
    sprint_id: int = Field(alias="sprintId")
    name: str = Field(alias="sprintName", min_length=1)
    state: str = Field(alias="sprintState")
    start: date | None = Field(alias="sprintStartDate")
    end: date | None = Field(alias="sprintEndDate")
    complete: date | None = Field(alias="sprintCompleteDate")
    total_issues: int = Field(alias="totalNumberOfIssues")
    completed_issues: int = Field(alias="completedIssuesCount")
    not_completed_issues: int = Field(alias="issuesNotCompletedInCurrentSprint")
    punted_issues: int = Field(alias="puntedIssues")
    completed_in_another_sprint: int = Field(alias="issuesCompletedInAnotherSprint")
    added_during_sprint: int = Field(alias="issueKeysAddedDuringSprint")
    completed_initial_points: float = Field(alias="completedIssuesInitialEstimateSum")
    completed_points: float = Field(alias="completedIssuesEstimateSum")
    punted_initial_points: float = Field(alias="puntedIssuesInitialEstimateSum")
    punted_points: float = Field(alias="puntedIssuesEstimateSum")
    not_completed_initial_points: float = Field(alias="issuesNotCompletedInitialEstimateSum")
    not_completed_points: float = Field(alias="issuesNotCompletedEstimateSum")
    developers: int = Field(alias="NoOfDevelopers")
    length_days: int | None = Field(alias="SprintLength")

    @field_validator("start", "end", "complete", mode="before")
    @classmethod
    def _date(cls, v: object) -> object:
        if v is None or (isinstance(v, str) and not v.strip()):
            return None
        if isinstance(v, str):
            try:
                return parse_jira_date(v)
            except ValueError:
                raise ValueError(f"not a date like 15-Apr-13: {v!r}") from None
        return v

    @field_validator("length_days", mode="before")
    @classmethod
    def _blank_int(cls, v: object) -> object:
        return None if isinstance(v, str) and not v.strip() else v


class MembershipRow(_Row):
    project_id: int = Field(alias="projectID")
    sprint_id: int = Field(alias="sprintId")
    status: MembershipStatus
    story_id: int = Field(alias="storyId")
    key: str = Field(alias="issueKey", min_length=1)
    summary: str
    priority: int | None = Field(alias="priorityId")
    assignee: str | None
    initial_points: float | None = Field(alias="initialStoryPoint")
    points: float | None = Field(alias="currentStoryPoint")

    @field_validator("status", mode="before")
    @classmethod
    def _status(cls, v: object) -> object:
        return _STATUS_ALIASES.get(v, v) if isinstance(v, str) else v

    @field_validator("priority", "initial_points", "points", "assignee", mode="before")
    @classmethod
    def _blank(cls, v: object) -> object:
        return None if isinstance(v, str) and not v.strip() else v


class KoralageIssue(_Row):
    key: str = Field(min_length=1)
    issue_type: str = Field(alias="issueType")
    sprint: str | None
    status: str | None
    summary: str | None
    description: str | None
    points: float | None = Field(alias="storyPoint")
    priority: int | None
    watch_count: int | None = Field(alias="watchcount")
    assignee: str | None
    votes: int | None
    issue_links: int | None = Field(alias="issueLinks")
    blocked_by: int | None = Field(alias="blockedBy")
    blocks: int | None
    depended_on_by: int | None = Field(alias="dependedOnBy")
    depended_on: int | None = Field(alias="dependedOn")
    subtasks: int | None

    @field_validator("*", mode="before")
    @classmethod
    def _blank(cls, v: object) -> object:
        return None if isinstance(v, str) and not v.strip() else v


SPRINT_COLUMNS = [f.alias for f in KoralageSprint.model_fields.values() if f.alias]
MEMBERSHIP_COLUMNS = [f.alias or n for n, f in MembershipRow.model_fields.items()]
ISSUE_COLUMNS = [f.alias or n for n, f in KoralageIssue.model_fields.items()]


class KoralageProject(BaseModel):
    project: str
    sprints: list[KoralageSprint]
    memberships: list[MembershipRow]
    issues: dict[str, KoralageIssue]

    def members(self, sprint_id: int) -> list[MembershipRow]:
        return [m for m in self.memberships if m.sprint_id == sprint_id]


def koralage_dir(data: Path, project: str = "SpringXD") -> Path:
    return find_dir(data, f"sprints/koralage2020/{project}", f"koralage2020/{project}", project, "")


def load_koralage(data: Path, project: str = "SpringXD") -> KoralageProject:
    """Sprint reports of one Koralage project; issue texts keyed by issue key (first row wins)."""
    return read_koralage(koralage_dir(data, project), project)


def read_koralage(folder: Path, project: str | None = None) -> KoralageProject:
    """One Koralage project folder (as found by `discover_koralage`); named after the folder by default."""
    project = project or folder.name
    if not (folder / "sprints.csv").is_file():
        raise DatasetError(folder, None, "no sprints.csv here: not a Koralage project folder")
    sprints = read_rows(folder / "sprints.csv", KoralageSprint, required=SPRINT_COLUMNS)
    members = read_rows(
        folder / "sprint_issue_membership.csv",
        MembershipRow,
        required=MEMBERSHIP_COLUMNS,
        prepare=nullify("null", "NULL"),
    )
    issues: dict[str, KoralageIssue] = {}
    issue_path = folder / "issues.csv"
    if issue_path.is_file():
        for row in read_rows(
            issue_path, KoralageIssue, required=ISSUE_COLUMNS, prepare=nullify("null", "NULL")
        ):
            issues.setdefault(row.key, row)
    return KoralageProject(project=project, sprints=sprints, memberships=members, issues=issues)
