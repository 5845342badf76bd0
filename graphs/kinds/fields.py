"""Kinds that write custom field values: a task's, or a project's own value of a portfolio field."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field, field_validator

from agents.proposal import Action, ActionKind, ApprovalClass
from graphs.actions import GidOrRef, InvalidAction, Params, is_ref
from graphs.asana_port import AsanaReads
from graphs.kinds.spec import ActionSpec, Denied, Refs, StaleOutcome, WriteContext, outcome_of
from graphs.stale import compare_project_fields

if TYPE_CHECKING:
    from graphs.policy_config import PolicyConfig


class SetCustomFieldParams(Params):
    field: str = Field(min_length=1)
    value: Any = None
    # Project whose field map encodes the value; defaults to the task's first in-scope project.
    project: GidOrRef | None = None


class SetCustomField(ActionSpec[SetCustomFieldParams]):
    kind = ActionKind.SET_CUSTOM_FIELD
    params_model = SetCustomFieldParams

    def check_params(self, params: SetCustomFieldParams, refs: Refs, workspace_gid: str) -> None:
        if params.project is not None:
            refs.project(params.project)

    def before_keys(self, params: SetCustomFieldParams) -> frozenset[str]:
        return frozenset({params.field})

    def classify(
        self, params: SetCustomFieldParams, config: PolicyConfig
    ) -> tuple[ApprovalClass, str] | None:
        if self.kind in config.auto_kinds or self.kind in config.denied_kinds:
            return None
        if config.is_auto_field(params.field):
            return ApprovalClass.AUTO, f"AI suggestion field {params.field!r} is applied automatically"
        return ApprovalClass.NEEDS_APPROVAL, f"custom field {params.field!r} needs approval"

    def wanted(self, params: SetCustomFieldParams) -> dict[str, Any] | None:
        return {params.field: params.value}

    def write(self, w: WriteContext, target: str | None, params: SetCustomFieldParams) -> str | None:
        assert target
        project = params.project or first_project(w, target)
        payload = w.reads.field_map(project).to_custom_fields({params.field: params.value})
        w.asana.update_task(target, {"custom_fields": payload})
        return None


def first_project(w: WriteContext, task_gid: str) -> str:
    """The task's first in-scope project: its field map encodes the value."""
    task = w.reads.task(task_gid)
    member_of = [m.project.gid for m in task.memberships if m.project] + [p.gid for p in task.projects]
    for gid in member_of:
        if not w.allowed_project_gids or gid in w.allowed_project_gids:
            return gid
    raise InvalidAction(f"task {task_gid} has no project whose custom fields could be used")


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


class SetProjectCustomField(ActionSpec[SetProjectCustomFieldParams]):
    kind = ActionKind.SET_PROJECT_CUSTOM_FIELD
    params_model = SetProjectCustomFieldParams
    target = "project"

    def check_target(self, target: str, params: SetProjectCustomFieldParams, refs: Refs) -> None:
        # An existing project, in scope, and an item of the (in-scope) portfolio whose field it is.
        if is_ref(target):
            raise Denied("a project field can only be set on an existing project")
        refs.project(target)
        refs.portfolio_project(params.portfolio, target)

    def before_keys(self, params: SetProjectCustomFieldParams) -> frozenset[str]:
        return frozenset({params.field})

    def classify(
        self, params: SetProjectCustomFieldParams, config: PolicyConfig
    ) -> tuple[ApprovalClass, str] | None:
        if self.kind in config.auto_kinds or self.kind in config.denied_kinds:
            return None
        if config.is_health_field(params.field):
            return (
                ApprovalClass.AUTO,
                f"the health field {params.field!r} of a project is applied automatically",
            )
        return ApprovalClass.NEEDS_APPROVAL, f"project field {params.field!r} needs approval"

    def stale(
        self, asana: AsanaReads, action: Action, target: str | None, params: SetProjectCustomFieldParams
    ) -> StaleOutcome | None:
        # Read back the project's own value: equal → done, moved since the proposal → conflict.
        assert target
        wanted = {params.field: params.value}
        return outcome_of(*compare_project_fields(asana.project_with_fields(target), action.before, wanted))

    def write(self, w: WriteContext, target: str | None, params: SetProjectCustomFieldParams) -> str | None:
        assert target
        payload = w.reads.portfolio_field_map(params.portfolio).to_custom_fields({params.field: params.value})
        w.asana.update_project_custom_fields(target, payload)
        return None
