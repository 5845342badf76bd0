"""Sandbox admin route that stands in for an Asana form submission (not part of Asana's API).

Asana's API has no forms endpoint: a form submission shows up as a new task in the form's project.
The form's title question becomes the task's name; questions mapped to custom fields set those
fields; every other answer goes into the description, one "question / answer" block each; the
submitter, when signed in, is the task's `created_by` (and a follower). The task is created by
the same code as `POST /tasks`, so it emits the same events as any task added to the project
(`added` with the project, and the section when the form files into one) to webhooks and the
events API alike.

`POST /__sandbox/projects/{project_gid}/form_submissions` with
`{"data": {"name", "notes"?, "answers"?: [{"question", "answer"}], "custom_fields"?: {gid: value},
"section"?: gid, "submitter"?: user gid or email}}` → 201 with the task. A form accepts anyone
who has its link, so the submitter need not see the project; without one (an anonymous
submission) the sandbox credits the project's owner.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from sandbox.actions import tasks as actions
from sandbox.context import Ctx, unknown_object
from sandbox.errors import bad_request
from sandbox.records import Project, Record, User
from sandbox.routes.admin import _json, require_admin
from sandbox.serialize import Renderer

router = APIRouter(prefix="/__sandbox")


class _FormCtx(Ctx):
    """The submitter's context for this one write: a form admits anyone with its link."""

    def check_access(self, record: Record) -> None:
        return None


def _submitter(store: Any, project: Project, raw: Any) -> User:
    if raw is None:
        owner = store.users.get(project.owner or "")
        if owner is None:
            raise bad_request("submitter: Missing input (the project has no owner to credit)")
        return owner  # type: ignore[no-any-return]
    if isinstance(raw, str):
        for user in store.users.values():
            if raw in (user.gid, user.email):
                return user  # type: ignore[no-any-return]
    raise bad_request(f"submitter: Not a recognized user: {raw}")


def _description(notes: Any, answers: Any) -> str:
    if notes is not None and not isinstance(notes, str):
        raise bad_request("notes: Value is not a string")
    if answers is None:
        return notes or ""
    if not isinstance(answers, list):
        raise bad_request("answers: Value is not a list")
    blocks = [notes] if notes else []
    for entry in answers:
        if not isinstance(entry, dict) or not isinstance(entry.get("question"), str):
            raise bad_request("answers: Each answer needs a question")
        answer = entry.get("answer")
        if not isinstance(answer, str):
            raise bad_request("answers: Each answer must be a string")
        blocks.append(f"{entry['question'].strip()}\n{answer.strip()}")
    return "\n\n".join(blocks)


@router.post("/projects/{project_gid}/form_submissions")
async def submit_form(project_gid: str, request: Request, services: Any = Depends(require_admin)) -> Response:
    body = await _json(request)
    data = body.get("data", body)
    if not isinstance(data, dict):
        raise bad_request("data: Value is not an object")
    store = services.store
    with store.lock:
        project = store.projects.get(project_gid)
        if not isinstance(project, Project):
            raise unknown_object()
        name = data.get("name")
        if not isinstance(name, str) or not name.strip():
            raise bad_request("name: A form submission needs its title answer")
        user = _submitter(store, project, data.get("submitter"))
        fields: dict[str, Any] = {
            "name": name,
            "notes": _description(data.get("notes"), data.get("answers")),
            "custom_fields": data.get("custom_fields"),
        }
        section = data.get("section")
        fields["memberships"] = [{"project": project.gid, **({"section": section} if section else {})}]
        renderer = Renderer(store, str(request.base_url), services.sign_download)
        ctx = _FormCtx(
            request=request,
            store=store,
            user=user,
            token="",
            body={"data": fields},
            tree=None,
            renderer=renderer,
        )
        task = actions.create_task(ctx, {k: v for k, v in fields.items() if v is not None})
        return ctx.one(task, 201)
