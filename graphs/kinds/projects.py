"""Kinds that create and set up containers: projects, their sections and their custom fields."""

from __future__ import annotations

from datetime import date

from pydantic import Field, field_validator

from agents.proposal import Action, ActionKind
from graphs.actions import Params, is_ref
from graphs.asana_port import AsanaReads
from graphs.kinds.spec import ActionSpec, Denied, Refs, StaleOutcome, WriteContext
from graphs.ports import LedgerStatus
from tools.asana.field_map import FieldMap

# The section Asana gives every new project (so a task always has a section membership).
DEFAULT_SECTION = "Untitled section"


class CreateProjectParams(Params):
    name: str = Field(min_length=1, max_length=255)
    workspace_gid: str | None = None
    team_gid: str | None = None
    notes: str = ""
    start_on: date | None = None
    due_on: date | None = None
    owner_gid: str | None = None
    # Use the workspace's active project of exactly this name (in `team_gid`, when given) instead
    # of creating a second one: for projects known by name, like a team's blockers project, which
    # two proposals waiting side by side may both ask for.
    unique_name: bool = False


def find_named_project(asana: AsanaReads, workspace_gid: str, name: str, team_gid: str | None) -> str | None:
    for project in asana.projects(workspace_gid):
        same_team = team_gid is None or (project.team is not None and project.team.gid == team_gid)
        if project.name == name and same_team and not project.archived:
            return project.gid
    return None


class CreateProject(ActionSpec[CreateProjectParams]):
    kind = ActionKind.CREATE_PROJECT
    params_model = CreateProjectParams
    target = "none"
    creates = "project"

    def check_params(self, params: CreateProjectParams, refs: Refs, workspace_gid: str) -> None:
        refs.workspace(params.workspace_gid or workspace_gid)

    def write(self, w: WriteContext, target: str | None, params: CreateProjectParams) -> str | None:
        workspace = params.workspace_gid or w.workspace_gid
        if params.unique_name:
            existing = find_named_project(w.reads, workspace, params.name, params.team_gid)
            if existing is not None:
                return existing
        return w.asana.create_project(
            workspace,
            params.name,
            team_gid=params.team_gid,
            notes=w.marked(params.notes),
            start_on=params.start_on,
            due_on=params.due_on,
            owner_gid=params.owner_gid,
        ).gid

    def probe(
        self,
        asana: AsanaReads,
        target: str | None,
        params: CreateProjectParams,
        mark: str,
        workspace_gid: str,
    ) -> str | None:
        for project in asana.projects(params.workspace_gid or workspace_gid):
            if project.name == params.name and mark in (project.notes or ""):
                return project.gid
        return None


class CreateSectionParams(Params):
    name: str = Field(min_length=1, max_length=255)
    # Take over the new project's default "Untitled section" (rename it) instead of adding one
    # beside it; a new section when it is gone. Only in a project this proposal creates.
    rename_default: bool = False


class CreateSection(ActionSpec[CreateSectionParams]):
    kind = ActionKind.CREATE_SECTION
    params_model = CreateSectionParams
    target = "project"
    creates = "section"

    def check_target(self, target: str, params: CreateSectionParams, refs: Refs) -> None:
        if params.rename_default and not is_ref(target):
            raise Denied("create_section renames the default section only in a project this proposal creates")
        refs.project(target)

    def write(self, w: WriteContext, target: str | None, params: CreateSectionParams) -> str | None:
        assert target
        if params.rename_default:
            default = next((s for s in w.reads.sections(target) if s.name == DEFAULT_SECTION), None)
            if default is not None:
                # A retry after the rename finds the section by its new name (the probe).
                return w.asana.update_section(default.gid, params.name).gid
        return w.asana.create_section(target, params.name).gid

    def probe(
        self,
        asana: AsanaReads,
        target: str | None,
        params: CreateSectionParams,
        mark: str,
        workspace_gid: str,
    ) -> str | None:
        assert target
        # Sections carry no notes: the name inside the (new) project identifies it.
        return next((s.gid for s in asana.sections(target) if s.name == params.name), None)


class AddProjectFieldsParams(Params):
    """Custom fields, by name, that `source`'s field settings define, to put on the target project."""

    fields: list[str] = Field(min_length=1, max_length=50)
    # An existing project (e.g. the backlog) whose fields these are: names resolve through it.
    source: str

    @field_validator("fields")
    @classmethod
    def _fields(cls, v: list[str]) -> list[str]:
        names = [n.strip() for n in v]
        if any(not n for n in names):
            raise ValueError("field names must not be empty")
        return list(dict.fromkeys(names))

    @field_validator("source")
    @classmethod
    def _source(cls, v: str) -> str:
        if not v.isdigit():
            raise ValueError(f"{v!r} is not an Asana gid")
        return v


class AddProjectFields(ActionSpec[AddProjectFieldsParams]):
    """`POST /projects/{gid}/addCustomFieldSetting` for each field not yet on the project.

    Idempotent without a probe: the stale check reads the project's field settings (uncached) and
    finds the action done when every field is there; the write adds only the missing ones, so a
    retry after a crash between two fields adds the rest and never a field twice (Asana refuses
    a second setting of the same field)."""

    kind = ActionKind.ADD_PROJECT_FIELDS
    params_model = AddProjectFieldsParams
    target = "project"

    def check_params(self, params: AddProjectFieldsParams, refs: Refs, workspace_gid: str) -> None:
        refs.project(params.source)

    def _missing(self, asana: AsanaReads, target: str, params: AddProjectFieldsParams) -> list[str]:
        present = {(s.custom_field.name or "").casefold() for s in asana.custom_field_settings(target)}
        return [n for n in params.fields if n.casefold() not in present]

    def stale(
        self, asana: AsanaReads, action: Action, target: str | None, params: AddProjectFieldsParams
    ) -> StaleOutcome | None:
        assert target
        if not self._missing(asana, target, params):
            return StaleOutcome(LedgerStatus.DONE, "every field is already on the project", [])
        return None

    def write(self, w: WriteContext, target: str | None, params: AddProjectFieldsParams) -> str | None:
        assert target
        missing = self._missing(w.reads, target, params)
        settings = w.reads.custom_field_settings(params.source)
        important = {s.custom_field.gid: bool(s.is_important) for s in settings}
        # Every name must be on the source, or nothing is added (the error names what is there).
        for cf in FieldMap(params.source, settings).require_all(missing).values():
            w.asana.add_custom_field_to_project(target, cf.gid, important=important.get(cf.gid, True))
        return None
