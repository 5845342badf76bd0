"""One supervisor model call: streamed, then checked before any tool call in it may run.

The answer is streamed (tokens reach the surfaces as they come) and merged here, which keeps the
raw argument text of each tool call. LangChain parses streamed arguments leniently (a partial
`{"capacity": 2` becomes `{"capacity": 2}`), so a call is executable only when its raw arguments
are a complete JSON object and the answer was not cut off (`finish_reason` "length"); anything
else becomes an invalid tool call, answered with a tool error (graphs/chat/history.py) and never
executed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from langchain_core.messages import AIMessage, AIMessageChunk, AnyMessage, BaseMessage, InvalidToolCall
from langchain_core.messages.tool import invalid_tool_call
from langchain_core.messages.utils import message_chunk_to_message

from graphs.chat.history import NOT_JSON, TRUNCATED


class EmptyAnswer(RuntimeError):
    pass


def _json_object(raw: str) -> bool:
    try:
        return isinstance(json.loads(raw), dict)
    except ValueError:
        return False


def checked(answer: BaseMessage) -> AIMessage:
    """The merged answer as an AIMessage whose `tool_calls` are all safe to execute."""
    if not isinstance(answer, AIMessage):
        return AIMessage(content=answer.content, id=answer.id)
    finish = (answer.response_metadata or {}).get("finish_reason")
    raw: dict[str, str] = {}
    if isinstance(answer, AIMessageChunk):
        raw = {str(c.get("id")): c.get("args") or "" for c in answer.tool_call_chunks if c.get("id")}
        message = message_chunk_to_message(answer)
        assert isinstance(message, AIMessage)
    else:
        message = answer
    valid = []
    invalid: list[InvalidToolCall] = list(message.invalid_tool_calls)
    for tc in message.tool_calls:
        text = raw.get(str(tc.get("id")))
        problem = None
        if finish == "length":
            problem = TRUNCATED
        elif text is not None and not (_json_object(text) or (text == "" and finish is not None)):
            problem = NOT_JSON
        if problem is None:
            valid.append(tc)
        else:
            args = text if text is not None else json.dumps(tc["args"])
            invalid.append(invalid_tool_call(name=tc["name"], args=args, id=tc.get("id"), error=problem))
    if len(valid) == len(message.tool_calls):
        return message
    return message.model_copy(update={"tool_calls": valid, "invalid_tool_calls": invalid})


def ask(model: Any, messages: Sequence[AnyMessage]) -> AIMessage:
    """Stream one answer from `model` (a chat model with tools bound) and check its tool calls."""
    merged: BaseMessage | None = None
    for chunk in model.stream(list(messages)):
        if merged is None or not isinstance(merged, AIMessageChunk) or not isinstance(chunk, AIMessageChunk):
            merged = chunk
        else:
            merged = merged + chunk
    if merged is None:
        raise EmptyAnswer("the model sent an empty answer")
    return checked(merged)
