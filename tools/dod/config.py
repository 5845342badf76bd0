"""The DoD configuration model: a list of checks (each an id plus parameters) and what to do on pass.

The YAML form is deliberately short; every check may be written three ways:

    checks:
      - subtasks_complete                              # id alone: default parameters
      - attachments: {min: 1, patterns: ["*.png"]}     # id → parameters
      - required_fields: ["Story Points", "Priority"]  # id → list (the check's main list parameter)
      - {id: links, min: 1}                            # explicit id key

`normalize_checks` turns all of them into `{"id": ..., **params}` before pydantic validates them.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from tools.asana.field_names import STATUS

EvidenceSource = Literal["subtasks", "comments", "attachments"]
LinkSource = Literal["notes", "comments", "attachments"]
ALL_EVIDENCE: tuple[EvidenceSource, ...] = ("subtasks", "comments", "attachments")
ALL_LINK_SOURCES: tuple[LinkSource, ...] = ("notes", "comments", "attachments")


class _Check(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SubtasksComplete(_Check):
    id: Literal["subtasks_complete"] = "subtasks_complete"
    # Require at least this many subtasks (0: a task without subtasks passes).
    min_subtasks: int = Field(default=0, ge=0)


class Attachments(_Check):
    id: Literal["attachments"] = "attachments"
    min: int = Field(default=1, ge=1)
    # Shell-style globs on attachment names, case-insensitive; empty = any attachment counts.
    patterns: list[str] = Field(default_factory=list)


class Links(_Check):
    id: Literal["links"] = "links"
    min: int = Field(default=1, ge=1)
    # Globs on the URL (e.g. "*github.com/*/pull/*"); empty = any http(s) link counts.
    patterns: list[str] = Field(default_factory=list)
    sources: list[LinkSource] = Field(default_factory=lambda: list(ALL_LINK_SOURCES), min_length=1)


class AcceptanceCriteria(_Check):
    id: Literal["acceptance_criteria"] = "acceptance_criteria"
    # Criteria must be present in the description.
    required: bool = True
    # Where evidence for each criterion may come from; empty = presence only.
    evidence: list[EvidenceSource] = Field(default_factory=lambda: list(ALL_EVIDENCE))
    # TF-IDF cosine at or above which an evidence item addresses a criterion.
    threshold: float = Field(default=0.3, gt=0.0, le=1.0)


class RequiredFields(_Check):
    id: Literal["required_fields"] = "required_fields"
    fields: list[str] = Field(min_length=1)

    @field_validator("fields")
    @classmethod
    def _names(cls, v: list[str]) -> list[str]:
        names = [n.strip() for n in v if n and n.strip()]
        if not names:
            raise ValueError("required_fields needs at least one field name")
        return list(dict.fromkeys(names))


Check = Annotated[
    SubtasksComplete | Attachments | Links | AcceptanceCriteria | RequiredFields, Field(discriminator="id")
]
CHECK_IDS = ("subtasks_complete", "attachments", "links", "acceptance_criteria", "required_fields")
# The parameter a bare list stands for (`required_fields: [..]`, `attachments: ["*.pdf"]`).
LIST_PARAM = {
    "required_fields": "fields",
    "attachments": "patterns",
    "links": "patterns",
    "acceptance_criteria": "evidence",
}


class OnPass(BaseModel):
    """The move proposed (approval class) when every check passes; all optional, at least one set.

    `section`: move the task to the section of this name in the project it is reviewed in (default
    "Done"; "In Review" where a board has it). `status`: set the enum field `status_field` to this
    option. `complete`: also mark the task completed. Each carries `before`, so a change made in
    Asana after the proposal becomes a conflict instead of being overwritten.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    section: str | None = "Done"
    status: str | None = "Done"
    status_field: str = STATUS
    complete: bool = False

    @model_validator(mode="after")
    def _something(self) -> OnPass:
        if not (self.section or self.status or self.complete):
            raise ValueError("on_pass must name a section, a status or complete: true")
        return self


class ReadyMarker(BaseModel):
    """What "entered review" means: in a section of this name, or the status field at this option."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    section: str = "Ready for Review"
    status: str = "Ready for Review"
    status_field: str = STATUS


class DodConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1] = 1
    checks: list[Check] = Field(min_length=1)
    on_pass: OnPass = Field(default_factory=OnPass)
    ready: ReadyMarker = Field(default_factory=ReadyMarker)

    @field_validator("checks", mode="before")
    @classmethod
    def _normalize(cls, v: Any) -> Any:
        return normalize_checks(v) if isinstance(v, list) else v

    def check_ids(self) -> list[str]:
        return [c.id for c in self.checks]


def normalize_checks(items: list[Any]) -> list[Any]:
    """The three short YAML forms → `{"id": ..., **params}` (anything else is left for pydantic)."""
    out: list[Any] = []
    for item in items:
        if isinstance(item, str):
            out.append({"id": item.strip()})
        elif isinstance(item, dict) and "id" not in item and len(item) == 1:
            ((key, params),) = item.items()
            key = str(key).strip()
            if params is None:
                out.append({"id": key})
            elif isinstance(params, dict):
                out.append({"id": key, **params})
            elif isinstance(params, list) and key in LIST_PARAM:
                out.append({"id": key, LIST_PARAM[key]: params})
            elif isinstance(params, bool) and key == "acceptance_criteria":
                out.append({"id": key, "required": params})
            else:
                out.append({"id": key, "value": params})  # rejected by pydantic with a clear message
        else:
            out.append(item)
    return out


def default_config() -> DodConfig:
    """Used when no file, project YAML or "Definition of Done" task defines one."""
    return DodConfig(checks=[SubtasksComplete(), AcceptanceCriteria()])
