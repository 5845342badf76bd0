"""Kinds that create containers: projects and sections."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from agents.proposal import ActionKind
from graphs.actions import Params
from graphs.asana_port import AsanaReads
from graphs.kinds.spec import ActionSpec, Refs, WriteContext


class CreateProjectParams(Params):
    name: str = Field(min_length=1, max_length=255)
    workspace_gid: str | None = None
    team_gid: str | None = None
    notes: str = ""
    start_on: date | None = None
    due_on: date | None = None
    owner_gid: str | None = None


class CreateProject(ActionSpec[CreateProjectParams]):
    kind = ActionKind.CREATE_PROJECT
    params_model = CreateProjectParams
    target = "none"
    creates = "project"

    def check_params(self, params: CreateProjectParams, refs: Refs, workspace_gid: str) -> None:
        refs.workspace(params.workspace_gid or workspace_gid)

    def write(self, w: WriteContext, target: str | None, params: CreateProjectParams) -> str | None:
        return w.asana.create_project(
            params.workspace_gid or w.workspace_gid,
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


class CreateSection(ActionSpec[CreateSectionParams]):
    kind = ActionKind.CREATE_SECTION
    params_model = CreateSectionParams
    target = "project"
    creates = "section"

    def write(self, w: WriteContext, target: str | None, params: CreateSectionParams) -> str | None:
        assert target
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
