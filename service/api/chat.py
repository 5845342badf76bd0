"""`POST /chat` (server-sent events) and `GET /threads/{id}`: the chat surface over HTTP.

Mount with `include_chat(app)` after `create_api(...)` (it reuses the app's runtime factory and
bearer-token check). A request carries the user's text, or structured HITL `decisions` for the
pending approval; who is chatting comes from `user`, an Asana user's email or gid (the API token
authenticates the client, which vouches for its users, as `decided_by` does on /approvals): the
chat sees only what that user can see in Asana, and only configured approvers decide. Events stream as
`event: <kind>` / `data: <json>` lines, ending with `event: done`.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator

from agents.proposal import Decision
from service.api.auth import require_api_token
from service.api.errors import ApiError
from service.api.state import RuntimeFactory, api_state
from service.chat_runtime import ChatConfig, chat_session
from service.events.locks import ThreadLocked, thread_lock
from tools.errors import UpstreamError, UserError

LOCK_WAIT_S = 10.0

log = logging.getLogger("sprintpilot.api.chat")

router = APIRouter(tags=["chat"], dependencies=[Depends(require_api_token)])

_USER = r"^[^\s\x00-\x1f:]+( [^\s\x00-\x1f:]+)*$"


class ChatBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    thread_id: str | None = Field(default=None, min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.\-]+$")
    user: str = Field(min_length=1, max_length=120, pattern=_USER)
    message: str | None = Field(default=None, max_length=8000)
    decisions: list[Decision] | None = Field(default=None, min_length=1)
    digest: str | None = Field(default=None, max_length=128)

    @model_validator(mode="after")
    def _one(self) -> ChatBody:
        if (self.message is None) == (self.decisions is None):
            raise ValueError("send either a message or decisions")
        if self.message is not None and not self.message.strip():
            # Refused here, before a thread is made for it (it was 200 and a new empty thread).
            raise ValueError("the message is empty")
        return self


def _sse(kind: str, data: dict[str, Any]) -> str:
    return f"event: {kind}\ndata: {json.dumps(data, default=str, separators=(',', ':'))}\n\n"


def _factory(request: Request) -> RuntimeFactory:
    chat_state = getattr(request.app.state, "chat", None)
    factory: RuntimeFactory | None = getattr(chat_state, "runtime_factory", None)
    return factory or api_state(request).runtime_factory


@router.post("/chat")
def post_chat(body: ChatBody, request: Request) -> StreamingResponse:
    factory = _factory(request)
    thread_id = body.thread_id or uuid.uuid4().hex
    try:
        with factory() as rt:
            rt.person(body.user)  # refused before the stream starts: an Asana user or nobody
    except UserError as err:
        raise ApiError(403, str(err)) from None
    except Exception:  # noqa: BLE001 - never the exception's text (SQL and its parameters)
        log.exception("chat: opening the runtime failed")
        raise ApiError(500, "internal error") from None

    def events() -> Iterator[str]:
        yield _sse("thread", {"thread_id": thread_id})
        try:
            with factory() as rt, thread_lock(rt.engine, thread_id, wait_s=LOCK_WAIT_S):
                # One turn at a time per thread (the same advisory lock the workers take).
                session = chat_session(rt, thread_id, body.user, config=ChatConfig())
                if body.decisions is not None:
                    stream = session.decide(
                        [d.model_dump(mode="json", exclude_none=True) for d in body.decisions], body.digest
                    )
                else:
                    stream = session.send(body.message or "")
                for event in stream:
                    yield _sse(event.kind, event.data)
        except ThreadLocked:
            yield _sse("error", {"message": "this conversation is busy with another message; retry shortly"})
        except (UserError, UpstreamError) as err:  # ours, worded for the user
            yield _sse("error", {"message": " ".join(str(err).split()) or type(err).__name__})
        except Exception:  # noqa: BLE001 - the stream has started: report in-band
            # Never the exception's text: a database error carries the SQL and its parameters.
            log.exception("chat turn failed on thread %s", thread_id)
            yield _sse("error", {"message": "internal error"})
        yield _sse("done", {"thread_id": thread_id})

    return StreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})


@router.get("/threads/{thread_id}")
def get_thread(
    thread_id: str, request: Request, user: str = Query(min_length=1, max_length=120, pattern=_USER)
) -> dict[str, Any]:
    """A thread's messages and pending request, for `user` (an Asana email or gid)."""
    with _factory(request)() as rt:
        try:
            session = chat_session(rt, thread_id, user)
        except UserError as err:
            raise ApiError(403, str(err)) from None
        return {"thread_id": thread_id, "messages": session.history(), "pending": session.pending()}


class _ChatState:
    def __init__(self, runtime_factory: RuntimeFactory | None) -> None:
        self.runtime_factory = runtime_factory


def include_chat(app: FastAPI, runtime_factory: RuntimeFactory | None = None) -> None:
    """Add the chat routes to an app built by `create_api` (its runtime factory unless given)."""
    app.state.chat = _ChatState(runtime_factory)
    app.include_router(router)
