"""Kinds that create, change or place tasks."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from agents.proposal import Action, ActionKind
from graphs.actions import GidOrRef, Params, gid_or_ref, is_ref
from graphs.asana_port import AsanaReads
from graphs.kinds.spec import ActionSpec, Denied, Refs, StaleOutcome, Unverifiable, WriteContext
from graphs.ports import LedgerStatus
from graphs.stale import TASK_ATTRIBUTES


def _find_marked_task(tasks: list[Any], name: str, mark: str) -> str | None:
    return next((t.gid for t in tasks if t.name == name and mark in (t.notes or "")), None)


def _check_dates(
    due_on: date | None, due_at: datetime | None, *, start_given: bool, due_given: bool = False
) -> None:
    """Refuse what Asana refuses (asana_oas.yaml TaskBase: `due_on` "should not be used together
    with `due_at`"; "`due_on` or `due_at` must be present in the request when setting or unsetting
    the `start_on` parameter")."""
    if due_on is not None and due_at is not None:
        raise ValueError("give either due_on (a day) or due_at (a time), not both: Asana refuses the pair")
    if start_given and not due_given:
        raise ValueError(
            "start_on needs due_on or due_at in the same update (Asana refuses a start date alone);"
            " repeat the task's due date"
        )


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
    # A key the notes carry: an open task of the first project whose notes carry it is used
    # instead of creating a second (one tracking task per subject, e.g. per blocked task, even
    # when two proposals waiting side by side both ask for it).
    unique_key: str | None = Field(default=None, min_length=8, max_length=200)

    @field_validator("projects")
    @classmethod
    def _projects(cls, v: list[str]) -> list[str]:
        return [gid_or_ref(p) for p in v]

    @model_validator(mode="after")
    def _dates(self) -> CreateTaskParams:
        _check_dates(self.due_on, self.due_at, start_given=False)
        if self.unique_key is not None and (self.unique_key not in self.notes or not self.projects):
            raise ValueError("unique_key must appear in the notes, and the task needs a project to look in")
        return self


class CreateTask(ActionSpec[CreateTaskParams]):
    kind = ActionKind.CREATE_TASK
    repeat_guarded = True
    params_model = CreateTaskParams
    target = "none"
    creates = "task"

    def check_params(self, params: CreateTaskParams, refs: Refs, workspace_gid: str) -> None:
        refs.workspace(params.workspace_gid or workspace_gid)
        for project in params.projects:
            refs.project(project)
        if params.section is not None:
            if not is_ref(params.section):
                raise Denied("create_task may only place the task in a section this proposal creates")
            refs.new_section(params.section)
        if params.custom_fields and not params.projects:
            raise Denied("custom fields on a new task need a project to resolve them")

    def write(self, w: WriteContext, target: str | None, params: CreateTaskParams) -> str | None:
        if params.unique_key is not None:
            open_tasks = w.reads.project_tasks(params.projects[0])
            found = next(
                (t.gid for t in open_tasks if not t.completed and params.unique_key in (t.notes or "")), None
            )
            if found is not None:
                return found
        fields = (
            w.reads.field_map(params.projects[0]).to_custom_fields(params.custom_fields)
            if params.custom_fields
            else None
        )
        gid = w.asana.create_task(
            name=params.name,
            workspace_gid=params.workspace_gid or w.workspace_gid,
            projects=params.projects or None,
            notes=w.marked(params.notes),
            assignee=params.assignee,
            due_on=params.due_on,
            due_at=params.due_at,
            resource_subtype=params.resource_subtype,
            custom_fields=fields,
        ).gid
        self.after_create(w, gid, params)
        return gid

    def after_create(self, w: WriteContext, gid: str, params: CreateTaskParams) -> None:
        if params.section:
            w.asana.add_task_to_section(params.section, gid)

    def probe(
        self, asana: AsanaReads, target: str | None, params: CreateTaskParams, mark: str, workspace_gid: str
    ) -> str | None:
        if not params.projects:
            raise Unverifiable("a task created outside any project cannot be looked up")
        return _find_marked_task(asana.project_tasks(params.projects[0]), params.name, mark)


class CreateSubtaskParams(Params):
    name: str = Field(min_length=1, max_length=1024)
    notes: str = ""
    assignee: str | None = None
    due_on: date | None = None


class CreateSubtask(ActionSpec[CreateSubtaskParams]):
    kind = ActionKind.CREATE_SUBTASK
    repeat_guarded = True
    params_model = CreateSubtaskParams
    creates = "task"

    def write(self, w: WriteContext, target: str | None, params: CreateSubtaskParams) -> str | None:
        assert target
        return w.asana.create_task(
            name=params.name,
            parent_gid=target,
            notes=w.marked(params.notes),
            assignee=params.assignee,
            due_on=params.due_on,
        ).gid

    def probe(
        self,
        asana: AsanaReads,
        target: str | None,
        params: CreateSubtaskParams,
        mark: str,
        workspace_gid: str,
    ) -> str | None:
        assert target
        return _find_marked_task(asana.subtasks(target), params.name, mark)


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
        given = self.model_fields_set
        _check_dates(
            self.due_on,
            self.due_at,
            start_given="start_on" in given,
            due_given=bool({"due_on", "due_at"} & given),
        )
        return self

    def fields(self) -> dict[str, Any]:
        """The fields to write (explicit None kept: it clears e.g. the assignee)."""
        return {k: getattr(self, k) for k in TASK_ATTRIBUTES if k in self.model_fields_set}


class UpdateTask(ActionSpec[UpdateTaskParams]):
    kind = ActionKind.UPDATE_TASK
    params_model = UpdateTaskParams

    def before_keys(self, params: UpdateTaskParams) -> frozenset[str]:
        return frozenset(TASK_ATTRIBUTES)

    def wanted(self, params: UpdateTaskParams) -> dict[str, Any] | None:
        return params.fields()

    def write(self, w: WriteContext, target: str | None, params: UpdateTaskParams) -> str | None:
        assert target
        w.asana.update_task(target, params.fields())
        return None


class AddToProjectParams(Params):
    project: GidOrRef
    section: GidOrRef | None = None

    _check = field_validator("project", "section")(lambda v: v if v is None else gid_or_ref(v))


class AddToProject(ActionSpec[AddToProjectParams]):
    kind = ActionKind.ADD_TO_PROJECT
    params_model = AddToProjectParams

    def check_params(self, params: AddToProjectParams, refs: Refs, workspace_gid: str) -> None:
        refs.project(params.project)
        if params.section is not None and is_ref(params.section):
            refs.new_section(params.section)

    def write(self, w: WriteContext, target: str | None, params: AddToProjectParams) -> str | None:
        assert target
        w.asana.add_task_to_project(target, params.project, params.section)
        return None

    def probe(
        self, asana: AsanaReads, target: str | None, params: AddToProjectParams, mark: str, workspace_gid: str
    ) -> str | None:
        # Adding again would be harmless in Asana, but it is still a write: read first.
        assert target
        for membership in asana.task(target).memberships:
            same_project = membership.project is not None and membership.project.gid == params.project
            section_ok = params.section is None or (
                membership.section is not None and membership.section.gid == params.section
            )
            if same_project and section_ok:
                return target
        return None


class RemoveFromProjectParams(Params):
    project: str

    _check = field_validator("project")(lambda v: gid_or_ref(v))


class RemoveFromProject(ActionSpec[RemoveFromProjectParams]):
    """Take a task out of a project (e.g. carry-over leaving a sprint); the task itself stays."""

    kind = ActionKind.REMOVE_FROM_PROJECT
    params_model = RemoveFromProjectParams

    def check_params(self, params: RemoveFromProjectParams, refs: Refs, workspace_gid: str) -> None:
        if is_ref(params.project):
            raise Denied("a task can only be removed from an existing project")
        refs.project(params.project)

    def stale(
        self, asana: AsanaReads, action: Action, target: str | None, params: RemoveFromProjectParams
    ) -> StaleOutcome | None:
        # Idempotent by reading first: already out of the project → nothing to write.
        assert target
        task = asana.task(target)
        member_of = {m.project.gid for m in task.memberships if m.project} | {p.gid for p in task.projects}
        if params.project not in member_of:
            return StaleOutcome(LedgerStatus.DONE, "already not in that project", [])
        return None

    def write(self, w: WriteContext, target: str | None, params: RemoveFromProjectParams) -> str | None:
        assert target
        w.asana.remove_task_from_project(target, params.project)
        return None


class AddToSectionParams(Params):
    section: GidOrRef
    # The project the section belongs to; checked against the allowed scope when given.
    project: GidOrRef | None = None

    _check = field_validator("project", "section")(lambda v: v if v is None else gid_or_ref(v))


class AddToSection(ActionSpec[AddToSectionParams]):
    kind = ActionKind.ADD_TO_SECTION
    params_model = AddToSectionParams

    def check_params(self, params: AddToSectionParams, refs: Refs, workspace_gid: str) -> None:
        if is_ref(params.section):
            refs.new_section(params.section)
        elif params.project is None:
            raise Denied("moving to an existing section needs its project, to check the scope")
        if params.project is not None:
            refs.project(params.project)

    def before_keys(self, params: AddToSectionParams) -> frozenset[str]:
        return frozenset({"section"})

    def check_before(self, before: dict[str, Any], params: AddToSectionParams) -> None:
        super().check_before(before, params)
        if params.project is None:
            raise Denied("a before-section needs the project it is in")

    def stale(
        self, asana: AsanaReads, action: Action, target: str | None, params: AddToSectionParams
    ) -> StaleOutcome | None:
        if not action.before or not target:
            return None
        assert params.project
        section = asana.task(target).section_in(params.project)
        now = section.gid if section else None
        if now == params.section:
            return StaleOutcome(LedgerStatus.DONE, "already in that section", [])
        if now != action.before.get("section"):
            conflict = {
                "field": "section",
                "before": action.before.get("section"),
                "now": now,
                "wanted": params.section,
            }
            return StaleOutcome(LedgerStatus.CONFLICT, "the task moved since the proposal", [conflict])
        return None

    def write(self, w: WriteContext, target: str | None, params: AddToSectionParams) -> str | None:
        assert target
        w.asana.add_task_to_section(params.section, target)
        return None
