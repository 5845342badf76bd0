"""What each action kind may carry: a strict pydantic params model plus its target rule.

The policy validates every action (including human edits) against these models; unknown keys,
wrong types or a missing/forbidden target make the action `denied`, never "best effort". The
executor re-parses params with the same models, so what was validated is what gets written.
"""

from __future__ import annotations

import base64
import binascii
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from agents.proposal import REF_PREFIX, Action, ActionKind

GidOrRef = str
TargetRule = Literal["none", "task", "project"]


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _gid_or_ref(value: str) -> str:
    if value.startswith(REF_PREFIX):
        if len(value) <= len(REF_PREFIX):
            raise ValueError("empty ref name")
        return value
    if not value.isdigit():
        raise ValueError(f"{value!r} is neither an Asana gid nor a ref:<name>")
    return value


class CreateProjectParams(Params):
    name: str = Field(min_length=1, max_length=255)
    workspace_gid: str | None = None
    team_gid: str | None = None
    notes: str = ""
    start_on: date | None = None
    due_on: date | None = None
    owner_gid: str | None = None


class CreateSectionParams(Params):
    name: str = Field(min_length=1, max_length=255)


class AddToProjectParams(Params):
    project: GidOrRef
    section: GidOrRef | None = None

    _check = field_validator("project", "section")(lambda v: v if v is None else _gid_or_ref(v))


class AddToSectionParams(Params):
    section: GidOrRef
    # The project the section belongs to; checked against the allowed scope when given.
    project: GidOrRef | None = None

    _check = field_validator("project", "section")(lambda v: v if v is None else _gid_or_ref(v))


class CreateTaskParams(Params):
    name: str = Field(min_length=1, max_length=1024)
    projects: list[GidOrRef] = Field(default_factory=list)
    section: GidOrRef | None = None
    workspace_gid: str | None = None
    notes: str = ""
    assignee: str | None = None
    due_on: date | None = None
    due_at: datetime | None = None
    resource_subtype: Literal["default_task", "milestone"] | None = None
    # By field name; encoded through the first project's field map at apply time.
    custom_fields: dict[str, Any] = Field(default_factory=dict)

    @field_validator("projects")
    @classmethod
    def _projects(cls, v: list[str]) -> list[str]:
        return [_gid_or_ref(p) for p in v]


class CreateSubtaskParams(Params):
    name: str = Field(min_length=1, max_length=1024)
    notes: str = ""
    assignee: str | None = None
    due_on: date | None = None


UPDATABLE_TASK_FIELDS = ("name", "notes", "assignee", "due_on", "due_at", "start_on", "completed")


class UpdateTaskParams(Params):
    """Only these task fields may be changed; anything else is refused by the policy."""

    name: str | None = Field(default=None, min_length=1, max_length=1024)
    notes: str | None = None
    assignee: str | None = None
    due_on: date | None = None
    due_at: datetime | None = None
    start_on: date | None = None
    completed: bool | None = None

    @model_validator(mode="after")
    def _something(self) -> UpdateTaskParams:
        if not self.model_fields_set:
            raise ValueError("update_task needs at least one field")
        return self

    def fields(self) -> dict[str, Any]:
        """The fields to write (explicit None kept: it clears e.g. the assignee)."""
        return {k: getattr(self, k) for k in UPDATABLE_TASK_FIELDS if k in self.model_fields_set}


class SetCustomFieldParams(Params):
    field: str = Field(min_length=1)
    value: Any = None
    # Project whose field map encodes the value; defaults to the task's first in-scope project.
    project: GidOrRef | None = None


class SetProjectCustomFieldParams(Params):
    """A project's value of one of its portfolio's fields; the target is the project."""

    field: str = Field(min_length=1)
    value: Any = None
    # The portfolio whose field settings define the field (and that must hold the project).
    portfolio: str

    @field_validator("portfolio")
    @classmethod
    def _portfolio(cls, v: str) -> str:
        if not v.isdigit():
            raise ValueError(f"{v!r} is not an Asana gid")
        return v


class DependencyParams(Params):
    dependencies: list[GidOrRef] = Field(min_length=1, max_length=30)

    @field_validator("dependencies")
    @classmethod
    def _deps(cls, v: list[str]) -> list[str]:
        return [_gid_or_ref(g) for g in v]


class PostCommentParams(Params):
    text: str = Field(min_length=1, max_length=60_000)


class PostStatusUpdateParams(Params):
    title: str = Field(min_length=1, max_length=255)
    text: str = Field(min_length=1)
    status_type: Literal["on_track", "at_risk", "off_track", "on_hold", "complete"] = "on_track"
    # Asana status updates belong to a project or a portfolio; the target gid is of this type.
    parent_type: Literal["project", "portfolio"] = "project"


class AttachFileParams(Params):
    """A report artefact. Text goes in `content`; binary (a chart PNG) base64-encoded in `content_base64`.
    `parent_type` says whether the target gid is a task or a project (Asana accepts both as parent)."""

    filename: str = Field(min_length=1, max_length=255, pattern=r"^[\w .,()\-]+$")
    content: str | None = None
    content_base64: str | None = Field(default=None, max_length=8_000_000)
    content_type: Literal["text/markdown", "text/plain", "text/csv", "application/json", "image/png"] = (
        "text/markdown"
    )
    parent_type: Literal["task", "project"] = "task"

    @model_validator(mode="after")
    def _one_content(self) -> AttachFileParams:
        if (self.content is None) == (self.content_base64 is None):
            raise ValueError("give exactly one of content or content_base64")
        if self.content_base64 is not None:
            try:
                base64.b64decode(self.content_base64, validate=True)
            except (binascii.Error, ValueError):
                raise ValueError("content_base64 is not valid base64") from None
        return self

    def data(self) -> bytes:
        if self.content_base64 is not None:
            return base64.b64decode(self.content_base64)
        return (self.content or "").encode()


class CreateApprovalTaskParams(Params):
    name: str = Field(min_length=1, max_length=1024)
    project: GidOrRef | None = None
    workspace_gid: str | None = None
    assignee: str | None = None
    due_at: datetime | None = None
    notes: str = ""


PARAMS: dict[ActionKind, type[Params]] = {
    ActionKind.CREATE_PROJECT: CreateProjectParams,
    ActionKind.CREATE_SECTION: CreateSectionParams,
    ActionKind.ADD_TO_PROJECT: AddToProjectParams,
    ActionKind.ADD_TO_SECTION: AddToSectionParams,
    ActionKind.CREATE_TASK: CreateTaskParams,
    ActionKind.CREATE_SUBTASK: CreateSubtaskParams,
    ActionKind.UPDATE_TASK: UpdateTaskParams,
    ActionKind.SET_CUSTOM_FIELD: SetCustomFieldParams,
    ActionKind.SET_PROJECT_CUSTOM_FIELD: SetProjectCustomFieldParams,
    ActionKind.ADD_DEPENDENCY: DependencyParams,
    ActionKind.REMOVE_DEPENDENCY: DependencyParams,
    ActionKind.POST_COMMENT: PostCommentParams,
    ActionKind.POST_STATUS_UPDATE: PostStatusUpdateParams,
    ActionKind.ATTACH_FILE: AttachFileParams,
    ActionKind.CREATE_APPROVAL_TASK: CreateApprovalTaskParams,
}

TARGETS: dict[ActionKind, TargetRule] = {
    ActionKind.CREATE_PROJECT: "none",
    ActionKind.CREATE_SECTION: "project",
    ActionKind.ADD_TO_PROJECT: "task",
    ActionKind.ADD_TO_SECTION: "task",
    ActionKind.CREATE_TASK: "none",
    ActionKind.CREATE_SUBTASK: "task",
    ActionKind.UPDATE_TASK: "task",
    ActionKind.SET_CUSTOM_FIELD: "task",
    ActionKind.SET_PROJECT_CUSTOM_FIELD: "project",
    ActionKind.ADD_DEPENDENCY: "task",
    ActionKind.REMOVE_DEPENDENCY: "task",
    ActionKind.POST_COMMENT: "task",
    ActionKind.POST_STATUS_UPDATE: "project",
    ActionKind.ATTACH_FILE: "task",
    ActionKind.CREATE_APPROVAL_TASK: "none",
}

# What a `ref` produced by each creating kind names, so refs are only used where that type fits.
CREATES: dict[ActionKind, Literal["project", "section", "task"]] = {
    ActionKind.CREATE_PROJECT: "project",
    ActionKind.CREATE_SECTION: "section",
    ActionKind.CREATE_TASK: "task",
    ActionKind.CREATE_SUBTASK: "task",
    ActionKind.CREATE_APPROVAL_TASK: "task",
}


class InvalidAction(ValueError):
    pass


def parse_params(action: Action) -> Params:
    model = PARAMS[action.kind]
    try:
        return model.model_validate(action.params)
    except ValidationError as err:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'params'}: {e['msg']}" for e in err.errors()
        )
        raise InvalidAction(f"invalid params for {action.kind.value}: {problems}") from None


def is_ref(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(REF_PREFIX)


def ref_name(value: str) -> str:
    return value[len(REF_PREFIX) :]


def resolve_refs(value: Any, gids: dict[str, str]) -> Any:
    """Replace every `ref:<name>` with the gid an earlier action created; KeyError if missing."""
    if is_ref(value):
        return gids[ref_name(value)]
    if isinstance(value, dict):
        return {k: resolve_refs(v, gids) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_refs(v, gids) for v in value]
    return value
