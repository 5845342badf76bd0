"""Attachments: multipart upload, list, get, delete. The file itself is served by the admin router
at a signed `download_url` (like Asana's pre-signed storage URLs, no bearer token needed)."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from starlette.datastructures import UploadFile
from starlette.responses import Response

from sandbox.context import Ctx, build_ctx
from sandbox.errors import bad_request
from sandbox.events import emit
from sandbox.records import Attachment, Record

router = APIRouter()
MAX_UPLOAD_BYTES = 100 * 1024 * 1024


@router.post("/attachments")
async def create_attachment(ctx: Ctx = Depends(build_ctx)) -> Response:
    content_type = ctx.request.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        raise bad_request("Attachments must be uploaded as multipart/form-data")
    form = await ctx.request.form()
    try:
        parent = form.get("parent")
        upload = form.get("file")
        if not isinstance(parent, str) or not parent:
            raise bad_request("parent: Missing input")
        if not isinstance(upload, UploadFile):
            raise bad_request("file: Missing input")
        content = await upload.read()
        if len(content) > MAX_UPLOAD_BYTES:
            raise bad_request("file: File is larger than 100MB")
        name = form.get("name")
        file_name = name if isinstance(name, str) and name else (upload.filename or "attachment")
        with ctx.lock:
            # Asana accepts a task or a project as the parent of an attachment.
            owner = ctx.need(parent, "task", "project", field="parent")
            attachment = ctx.store.add_attachment(
                owner.gid, file_name, content, content_type=upload.content_type or "application/octet-stream"
            )
            emit(ctx.store, attachment, "added", user=ctx.user.gid, parent=owner, extra_scopes=[owner.gid])
            # asana_oas.yaml: paths./attachments.post answers 200 (not 201 like the other creates).
            return ctx.one(attachment, 200)
    finally:
        await form.close()  # closes the upload's spooled temp file


@router.get("/attachments")
def get_attachments_for_object(ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        parent = ctx.query("parent")
        if parent is None:
            raise bad_request("parent: Missing input")
        ctx.need(parent, "task", "project", field="parent")
        records: list[Record] = [a for a in ctx.store.attachments.values() if a.parent == parent]
        return ctx.page(records)


@router.get("/attachments/{attachment_gid}")
def get_attachment(attachment_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        return ctx.one(ctx.need(attachment_gid, "attachment"))


@router.delete("/attachments/{attachment_gid}")
def delete_attachment(attachment_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        attachment: Attachment = ctx.need(attachment_gid, "attachment")
        ctx.store.remove(attachment.gid)
        return ctx.empty()
