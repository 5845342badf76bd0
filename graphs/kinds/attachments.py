"""`attach_document`: a document people read (the sprint review, a ceremony's .ics), attached to a
task or project. Unlike `attach_file` (report artefacts such as charts, auto), a document is an
approval-class write by default; `SPRINTPILOT_APPROVAL_POLICY='{"kinds": {"attach_document":
"auto"}}'` makes it automatic. A status update that links a document (`link_attachment`) takes the
document kind's class, so the link is never posted before the document exists.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from agents.proposal import ActionKind, ApprovalClass
from graphs.actions import InvalidAction, Params
from graphs.kinds.spec import ActionSpec, TargetRule, WriteContext

if TYPE_CHECKING:
    from graphs.asana_port import AsanaReads
    from graphs.policy_config import PolicyConfig

FILENAME = r"^[\w .,()\-]+$"
# Where a status update's text takes the link to the document it announces.
LINK_SLOT = "⟨document⟩"


class AttachDocumentParams(Params):
    filename: str = Field(min_length=1, max_length=255, pattern=FILENAME)
    content: str = Field(min_length=1, max_length=2_000_000)
    content_type: Literal["text/html", "text/calendar", "text/markdown"]
    parent_type: Literal["task", "project"] = "task"
    # A newer version of the same document: after the upload, older files on the same parent whose
    # names start with this prefix are deleted (upload first: a crash leaves two, never none).
    replaces_prefix: str | None = Field(default=None, min_length=3, max_length=200, pattern=FILENAME)


class AttachDocument(ActionSpec[AttachDocumentParams]):
    kind = ActionKind.ATTACH_DOCUMENT
    repeat_guarded = True
    params_model = AttachDocumentParams
    default_class = ApprovalClass.NEEDS_APPROVAL

    def target_rule(self, params: AttachDocumentParams) -> TargetRule:
        return params.parent_type

    def write(self, w: WriteContext, target: str | None, params: AttachDocumentParams) -> str | None:
        assert target
        data = params.content.encode()
        if params.content_type == "text/calendar" and not data.endswith(b"\r\n"):
            # Params strip surrounding whitespace; RFC 5545 ends every content line with CRLF.
            data += b"\r\n"
        gid = w.asana.upload_attachment(target, params.filename, data, params.content_type).gid
        if params.replaces_prefix:
            for old in w.reads.attachments(target):
                name = old.name or ""
                if old.gid != gid and name != params.filename and name.startswith(params.replaces_prefix):
                    w.asana.delete_attachment(old.gid)
        return gid

    def probe(
        self,
        asana: AsanaReads,
        target: str | None,
        params: AttachDocumentParams,
        mark: str,
        workspace_gid: str,
    ) -> str | None:
        assert target
        return next((a.gid for a in asana.attachments(target) if a.name == params.filename), None)


def document_class(config: PolicyConfig) -> tuple[ApprovalClass, str]:
    """The class of a write that publishes a document (the document kind's configured class)."""
    kind = ActionKind.ATTACH_DOCUMENT
    if kind in config.denied_kinds:
        return ApprovalClass.DENIED, f"{kind.value} is not allowed in this workspace"
    if kind in config.auto_kinds:
        return ApprovalClass.AUTO, f"links a document; {kind.value} is applied automatically"
    return ApprovalClass.NEEDS_APPROVAL, f"links a document; {kind.value} needs approval"


def with_link(reads: AsanaReads, parent_gid: str, text: str, filename: str | None) -> str:
    """`text` with a markdown link to the attachment `filename` on `parent_gid` in place of
    `LINK_SLOT` (appended when there is none). The permanent URL, not the view or download URL:
    Asana signs those for a short time only."""
    if filename is None:
        return text
    found = next((a for a in reads.attachments(parent_gid) if a.name == filename), None)
    if found is None:
        raise InvalidAction(f"no attachment named {filename!r} on {parent_gid} to link")
    url = found.permanent_url or found.view_url or found.download_url
    # The URL as its own label: the plain `text` Asana pairs with rich text keeps it too.
    link = f"{filename} <{url}>" if url else filename
    return text.replace(LINK_SLOT, link) if LINK_SLOT in text else f"{text}\n\n{link}"
