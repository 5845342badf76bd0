"""Stories: list for a task, comment creation, get/update/delete of one story."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from starlette.responses import Response

from sandbox import richtext
from sandbox.actions import history
from sandbox.context import Ctx, build_ctx
from sandbox.errors import ApiError, bad_request
from sandbox.events import change, emit
from sandbox.records import Record, Story

router = APIRouter()
# asana_oas.yaml: components.schemas.StoryBase.sticker_name enum.
STICKER_NAMES = frozenset(
    {
        "green_checkmark",
        "people_dancing",
        "dancing_unicorn",
        "heart",
        "party_popper",
        "people_waving_flags",
        "splashing_narwhal",
        "trophy",
        "yeti_riding_unicorn",
        "celebrating_people",
        "determined_climbers",
        "phoenix_spreading_love",
    }
)


@router.get("/tasks/{task_gid}/stories")
def get_stories_for_task(task_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        ctx.need(task_gid, "task")
        records: list[Record] = list(ctx.store.stories_for(task_gid))
        return ctx.page(records)


@router.post("/tasks/{task_gid}/stories")
def create_story_for_task(task_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        task = ctx.need(task_gid, "task")
        data = ctx.data()
        text, html_text = data.get("text"), data.get("html_text")
        if text is not None and html_text is not None:
            raise bad_request("text: You may only specify one of text and html_text")
        if text is None and html_text is None:
            raise bad_request("text: Missing input")
        sticker = data.get("sticker_name")
        if sticker is not None and sticker not in STICKER_NAMES:
            raise bad_request(f"sticker_name: Unknown value {sticker!r}")
        if html_text is not None:
            html_text, text = richtext.validated("html_text", html_text, "story")
        elif not isinstance(text, str):
            raise bad_request("text: Value is not a string")
        story = history.comment(ctx.store, task, ctx.user, text, html_text, bool(data.get("is_pinned")))
        story.sticker_name = sticker
        return ctx.one(story, 201)


@router.get("/stories/{story_gid}")
def get_story(story_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        return ctx.one(ctx.need(story_gid, "story"))


@router.put("/stories/{story_gid}")
def update_story(story_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        story: Story = ctx.need(story_gid, "story")
        if story.type != "comment":
            raise ApiError(403, "Only comment stories can be edited")
        data = ctx.data()
        if "text" in data and "html_text" in data:
            raise bad_request("text: You may only specify one of text and html_text")
        if "html_text" in data:
            story.html_text, story.text = richtext.validated("html_text", data["html_text"], "story")
        elif "text" in data:
            story.text, story.html_text = str(data["text"]), None
        if "is_pinned" in data:
            story.is_pinned = bool(data["is_pinned"])
        emit(ctx.store, story, "changed", user=ctx.user.gid, change=change("text"))
        return ctx.one(story)


@router.delete("/stories/{story_gid}")
def delete_story(story_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        story: Story = ctx.need(story_gid, "story")
        if story.type != "comment" or story.created_by != ctx.user.gid:
            raise ApiError(403, "You can only delete your own comments")
        task = ctx.store.tasks.get(story.target)
        emit(ctx.store, story, "removed", user=ctx.user.gid, parent=task)
        ctx.store.remove(story_gid)
        if task is not None:
            task.modified_at = ctx.store.now()
        return ctx.empty()
