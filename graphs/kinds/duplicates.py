"""The kind that links an intake request to the backlog item it repeats (needs approval by default).

Asana's API has no "related task" link and cannot mark a task as a duplicate (the UI's "Mark as
duplicate" leaves a `duplicate_of` story, which the API only reads). A dependency would say the
request is *blocked* by the item, which it is not, and making it a subtask would move it out of
the intake's view. So the link is what a person does by hand: a comment on each task naming the
other by its permalink (Asana renders task links in comments as links to the task), and for a
merge the request is also completed, as Asana's own "Mark as duplicate" completes it.

One action writes both sides, so a reviewer approves or rejects the link as a whole. Each comment
carries the ledger marker: a retry after a crash posts only the side that is missing, and the
completion is only written while the request is still open.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from agents.proposal import ActionKind
from graphs.actions import Params
from graphs.asana_port import AsanaReads
from graphs.kinds.spec import ActionSpec, Refs, WriteContext


class LinkDuplicateParams(Params):
    original: str = Field(description="the backlog item the request repeats (a task gid)")
    resolution: Literal["link", "merge"]
    request_text: str = Field(min_length=1, max_length=10_000, description="the comment on the request")
    original_text: str = Field(min_length=1, max_length=10_000, description="the comment on the item")

    @field_validator("original")
    @classmethod
    def _gid(cls, v: str) -> str:
        if not v.isdigit():
            raise ValueError(f"{v!r} is not an Asana task gid")
        return v


def _marked(reads: AsanaReads, task_gid: str, mark: str) -> bool:
    return any(mark in (s.text or "") for s in reads.stories(task_gid))


class LinkDuplicate(ActionSpec[LinkDuplicateParams]):
    kind = ActionKind.LINK_DUPLICATE
    params_model = LinkDuplicateParams
    # Facts (request, item, resolution) applied once are not proposed again (graphs/repeats.py).
    repeat_guarded = True

    def check_params(self, params: LinkDuplicateParams, refs: Refs, workspace_gid: str) -> None:
        refs.task(params.original)

    def write(self, w: WriteContext, target: str | None, params: LinkDuplicateParams) -> str | None:
        from tools.asana.richtext import markdown_to_html

        assert target
        mark = w.marked("")
        for gid, text in ((target, params.request_text), (params.original, params.original_text)):
            if not _marked(w.reads, gid, mark):
                w.asana.add_comment(gid, html_text=markdown_to_html(text, target="story", trailer=mark))
        if params.resolution == "merge" and not w.reads.task(target).completed:
            w.asana.update_task(target, {"completed": True})
        return None

    def probe(
        self,
        asana: AsanaReads,
        target: str | None,
        params: LinkDuplicateParams,
        mark: str,
        workspace_gid: str,
    ) -> str | None:
        assert target
        both = _marked(asana, target, mark) and _marked(asana, params.original, mark)
        done = both and (params.resolution == "link" or bool(asana.task(target).completed))
        return target if done else None
