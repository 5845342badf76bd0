"""The approval task: how a human is asked in Asana (auto, or the gate would wait on itself)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from agents.proposal import Action, ActionKind, ApprovalClass
from graphs.actions import GidOrRef, Params
from graphs.asana_port import AsanaReads
from graphs.kinds.spec import ActionSpec, Refs, StaleOutcome, Unverifiable, WriteContext
from graphs.ports import LedgerStatus


class CreateApprovalTaskParams(Params):
    name: str = Field(min_length=1, max_length=1024)
    project: GidOrRef | None = None
    workspace_gid: str | None = None
    assignee: str | None = None
    due_at: datetime | None = None
    notes: str = ""


class CreateApprovalTask(ActionSpec[CreateApprovalTaskParams]):
    kind = ActionKind.CREATE_APPROVAL_TASK
    params_model = CreateApprovalTaskParams
    target = "none"
    creates = "task"
    default_class = ApprovalClass.AUTO
    reserved_ref = True

    def check_params(self, params: CreateApprovalTaskParams, refs: Refs, workspace_gid: str) -> None:
        refs.workspace(params.workspace_gid or workspace_gid)
        if params.project is not None:
            refs.project(params.project)

    def write(self, w: WriteContext, target: str | None, params: CreateApprovalTaskParams) -> str | None:
        return w.asana.create_task(
            name=params.name,
            workspace_gid=params.workspace_gid or w.workspace_gid,
            projects=[params.project] if params.project else None,
            notes=w.marked(params.notes),
            assignee=params.assignee,
            due_at=params.due_at,
            resource_subtype="approval",
        ).gid

    def probe(
        self,
        asana: AsanaReads,
        target: str | None,
        params: CreateApprovalTaskParams,
        mark: str,
        workspace_gid: str,
    ) -> str | None:
        if params.project is None:
            raise Unverifiable("a task created outside any project cannot be looked up")
        for task in asana.project_tasks(params.project):
            if task.name == params.name and mark in (task.notes or ""):
                return task.gid
        return None


class CloseApprovalTaskParams(Params):
    # None: the decision was taken in Asana itself, whose status stays as the human set it.
    status: Literal["approved", "rejected", "changes_requested"] | None = None


class CloseApprovalTask(ActionSpec[CloseApprovalTaskParams]):
    """The loop closes in Asana: whoever decided and wherever, the approval task shows it."""

    kind = ActionKind.CLOSE_APPROVAL_TASK
    params_model = CloseApprovalTaskParams
    default_class = ApprovalClass.AUTO

    def stale(
        self, asana: AsanaReads, action: Action, target: str | None, params: CloseApprovalTaskParams
    ) -> StaleOutcome | None:
        assert target
        task = asana.task(target)
        if task.completed and (params.status is None or task.approval_status == params.status):
            return StaleOutcome(LedgerStatus.DONE, "the approval task already shows the decision", [])
        return None

    def write(self, w: WriteContext, target: str | None, params: CloseApprovalTaskParams) -> str | None:
        assert target
        fields: dict[str, object] = {"completed": True}
        if params.status is not None:
            fields["approval_status"] = params.status
        w.asana.update_task(target, fields)
        return None


class ResetApprovalTaskParams(Params):
    pass


class ResetApprovalTask(ActionSpec[ResetApprovalTaskParams]):
    """Set the approval task back to pending (a status changed by someone who may not decide)."""

    kind = ActionKind.RESET_APPROVAL_TASK
    params_model = ResetApprovalTaskParams
    default_class = ApprovalClass.AUTO

    def stale(
        self, asana: AsanaReads, action: Action, target: str | None, params: ResetApprovalTaskParams
    ) -> StaleOutcome | None:
        assert target
        if (asana.task(target).approval_status or "pending") == "pending":
            return StaleOutcome(LedgerStatus.DONE, "the approval task is already pending", [])
        return None

    def write(self, w: WriteContext, target: str | None, params: ResetApprovalTaskParams) -> str | None:
        assert target
        w.asana.update_task(target, {"approval_status": "pending"})
        return None
