"""A scripted chat model that supports tool binding (LangChain's fakes raise on bind_tools)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.messages.tool import tool_call_chunk
from langchain_core.outputs import ChatGenerationChunk


class ScriptedToolModel(GenericFakeChatModel):
    """Answers with the scripted AIMessages in order; records what it was shown each call."""

    seen: list[list[BaseMessage]] = []
    bound_tools: list[Any] = []

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> ScriptedToolModel:
        self.bound_tools = list(tools)
        return self

    def _generate(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> Any:
        self.seen.append(list(messages))
        return super()._generate(messages, *args, **kwargs)

    def _stream(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> Iterator[Any]:
        self.seen.append(list(messages))
        message = super()._generate(messages, *args, **kwargs).generations[0].message
        chunks = [
            tool_call_chunk(name=c["name"], args=json.dumps(c["args"]), id=c["id"], index=i)
            for i, c in enumerate(getattr(message, "tool_calls", []) or [])
        ]
        words = str(message.content).split(" ") if message.content else []
        for i, word in enumerate(words):
            text = word if i == len(words) - 1 else word + " "
            yield ChatGenerationChunk(message=AIMessageChunk(content=text, id=message.id))
        if chunks or not words:
            yield ChatGenerationChunk(
                message=AIMessageChunk(content="", id=message.id, tool_call_chunks=chunks)
            )


def scripted(*replies: AIMessage | str) -> ScriptedToolModel:
    return ScriptedToolModel(messages=iter(list(replies)), seen=[], bound_tools=[])


def call(name: str, args: dict[str, Any], call_id: str) -> dict[str, Any]:
    return {"name": name, "args": args, "id": call_id, "type": "tool_call"}
