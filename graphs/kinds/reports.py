"""Kinds that report: comments, status updates and file attachments (auto by default)."""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING, Literal

from pydantic import Field, model_validator

from agents.proposal import ActionKind, ApprovalClass
from graphs.actions import Params
from graphs.asana_port import AsanaReads
from graphs.kinds.spec import ActionSpec, TargetRule, WriteContext

if TYPE_CHECKING:
    from graphs.policy_config import PolicyConfig


class PostCommentParams(Params):
    text: str = Field(min_length=1, max_length=60_000)


class PostComment(ActionSpec[PostCommentParams]):
    kind = ActionKind.POST_COMMENT
    repeat_guarded = True
    params_model = PostCommentParams
    default_class = ApprovalClass.AUTO

    def write(self, w: WriteContext, target: str | None, params: PostCommentParams) -> str | None:
        from tools.asana.richtext import markdown_to_html

        assert target
        # Rich text, so Asana shows the formatting rather than raw markdown; the crash-window
        # marker is a paragraph of its own, so the plain `text` Asana returns still carries it.
        mark = w.marked("")
        html = markdown_to_html(params.text, target="story", trailer=None if mark in params.text else mark)
        return w.asana.add_comment(target, html_text=html).gid

    def probe(
        self, asana: AsanaReads, target: str | None, params: PostCommentParams, mark: str, workspace_gid: str
    ) -> str | None:
        assert target
        return next((s.gid for s in asana.stories(target) if mark in (s.text or "")), None)


class PostStatusUpdateParams(Params):
    title: str = Field(min_length=1, max_length=255)
    text: str = Field(min_length=1)
    status_type: Literal["on_track", "at_risk", "off_track", "on_hold", "complete"] = "on_track"
    # Asana status updates belong to a project or a portfolio; the target gid is of this type.
    parent_type: Literal["project", "portfolio"] = "project"
    # An attachment of this name on the same parent to link (the sprint review's document): its
    # permanent URL replaces `⟨document⟩` in the text when the update is written. Such an update
    # takes the `attach_document` kind's class (graphs/kinds/attachments.py).
    link_attachment: str | None = Field(default=None, min_length=1, max_length=255)


class PostStatusUpdate(ActionSpec[PostStatusUpdateParams]):
    kind = ActionKind.POST_STATUS_UPDATE
    repeat_guarded = True
    params_model = PostStatusUpdateParams
    target = "project"
    default_class = ApprovalClass.AUTO

    def target_rule(self, params: PostStatusUpdateParams) -> TargetRule:
        return params.parent_type

    def classify(
        self, params: PostStatusUpdateParams, config: PolicyConfig
    ) -> tuple[ApprovalClass, str] | None:
        from graphs.kinds.attachments import document_class

        return document_class(config) if params.link_attachment else None

    def write(self, w: WriteContext, target: str | None, params: PostStatusUpdateParams) -> str | None:
        from graphs.kinds.attachments import with_link
        from tools.asana.richtext import html_to_text, markdown_to_html

        assert target
        text = with_link(w.reads, target, params.text, params.link_attachment)
        # Rich text as for comments; Asana requires `text` too: the same content, plain.
        mark = w.marked("")
        html = markdown_to_html(text, target="status_update", trailer=None if mark in text else mark)
        return w.asana.create_status_update(
            target,
            title=params.title,
            text=html_to_text(html),
            html_text=html,
            status_type=params.status_type,
        ).gid

    def probe(
        self,
        asana: AsanaReads,
        target: str | None,
        params: PostStatusUpdateParams,
        mark: str,
        workspace_gid: str,
    ) -> str | None:
        assert target
        return next((u.gid for u in asana.status_updates(target) if mark in (u.text or "")), None)


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
    # A redrawn report artefact (the forecast's fan chart): after the upload, earlier files of the
    # same name on the same parent are deleted, so the project shows one current chart, not six.
    replaces: bool = False

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


class AttachFile(ActionSpec[AttachFileParams]):
    kind = ActionKind.ATTACH_FILE
    repeat_guarded = True
    params_model = AttachFileParams
    # Report artefacts (burndown charts on stand-up/status updates).
    default_class = ApprovalClass.AUTO

    def target_rule(self, params: AttachFileParams) -> TargetRule:
        return params.parent_type

    def write(self, w: WriteContext, target: str | None, params: AttachFileParams) -> str | None:
        assert target
        gid = w.asana.upload_attachment(target, params.filename, params.data(), params.content_type).gid
        if params.replaces:
            # Upload first, then delete: a crash in between leaves an extra chart (the next redraw
            # removes it), never none. Only files of this exact name on this parent are touched.
            for old in w.reads.attachments(target):
                if old.name == params.filename and old.gid != gid:
                    w.asana.delete_attachment(old.gid)
        return gid

    def probe(
        self, asana: AsanaReads, target: str | None, params: AttachFileParams, mark: str, workspace_gid: str
    ) -> str | None:
        assert target
        return next((a.gid for a in asana.attachments(target) if a.name == params.filename), None)
