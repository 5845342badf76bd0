"""Plain inputs and outputs of the DoD checks (no Asana types: the agent maps onto these)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

EvidenceKind = Literal["subtask", "comment", "attachment"]


class SubtaskInfo(BaseModel):
    gid: str
    name: str
    completed: bool


class CommentInfo(BaseModel):
    gid: str
    text: str
    # Comments written by sprintpilot itself never count as evidence (they quote the criteria).
    by_bot: bool = False


class AttachmentInfo(BaseModel):
    gid: str
    name: str
    url: str | None = None


class TaskSnapshot(BaseModel):
    """What the checks look at. `fields` holds every custom field on the task (None = unset)."""

    model_config = ConfigDict(frozen=True)

    gid: str
    name: str = ""
    notes: str = ""
    completed: bool = False
    subtasks: list[SubtaskInfo] = Field(default_factory=list)
    comments: list[CommentInfo] = Field(default_factory=list)
    attachments: list[AttachmentInfo] = Field(default_factory=list)
    fields: dict[str, str | None] = Field(default_factory=dict)

    @property
    def human_comments(self) -> list[CommentInfo]:
        return [c for c in self.comments if not c.by_bot]


class Finding(BaseModel):
    """One unmet DoD item and what would satisfy it."""

    check: str
    item: str
    satisfy: str


class EvidenceMatch(BaseModel):
    kind: EvidenceKind
    gid: str
    text: str
    score: float


class CriterionResult(BaseModel):
    text: str
    addressed: bool
    best_score: float
    evidence: list[EvidenceMatch] = Field(default_factory=list)


class CheckResult(BaseModel):
    id: str
    passed: bool
    summary: str
    findings: list[Finding] = Field(default_factory=list)


class DodReport(BaseModel):
    task_gid: str
    passed: bool
    checks: list[CheckResult]
    criteria: list[CriterionResult] = Field(default_factory=list)

    @property
    def findings(self) -> list[Finding]:
        return [f for c in self.checks for f in c.findings]
