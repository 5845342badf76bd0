"""Section endpoints: get, rename, delete, addTask."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from starlette.responses import Response

from sandbox.actions.tasks import place_in_project
from sandbox.context import Ctx, build_ctx
from sandbox.errors import bad_request
from sandbox.events import change, emit
from sandbox.records import Section

router = APIRouter()


@router.get("/sections/{section_gid}")
def get_section(section_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        return ctx.one(ctx.need(section_gid, "section"))


@router.put("/sections/{section_gid}")
def update_section(section_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        section: Section = ctx.need(section_gid, "section")
        name = ctx.data().get("name")
        if not isinstance(name, str) or not name:
            raise bad_request("name: Missing input")
        if name != section.name:
            section.name = name
            emit(ctx.store, section, "changed", user=ctx.user.gid, change=change("name"))
        return ctx.one(section)


@router.delete("/sections/{section_gid}")
def delete_section(section_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        section: Section = ctx.need(section_gid, "section")
        project = ctx.store.projects[section.project]
        if section.tasks:
            raise bad_request("section: Only empty sections can be deleted")
        if len(project.sections) == 1:
            raise bad_request("section: A project must keep at least one section")
        project.sections.remove(section_gid)
        emit(ctx.store, section, "deleted", user=ctx.user.gid)
        ctx.store.remove(section_gid)
        return ctx.empty()


@router.post("/sections/{section_gid}/addTask")
def add_task_for_section(section_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        section: Section = ctx.need(section_gid, "section")
        data = ctx.data()
        if not data.get("task"):
            raise bad_request("task: Missing input")
        task = ctx.need(str(data["task"]), "task", field="task")
        project = ctx.store.projects[section.project]
        before, after = data.get("insert_before"), data.get("insert_after")
        # asana_oas.yaml paths./sections/{section_gid}/addTask.post: "inserted at the top of a
        # section unless an insert_before or insert_after parameter is declared".
        place_in_project(ctx, task, project, section, before, after, at_top=before is None and after is None)
        return ctx.empty()
