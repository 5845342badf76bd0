"""The chat graph's state: the supervisor run's keys plus the conversation.

It extends `RunState` so the existing policy/publish/gate/apply/report nodes run unchanged inside
the chat graph; those keys describe the proposal currently being governed and are reset (with
`Overwrite`, past their reducers) before each new proposal of the conversation.
"""

from __future__ import annotations

from typing import Annotated, Any

from langchain_core.messages import AnyMessage
from langgraph.graph.message import add_messages

from graphs.state import RunState


class ChatState(RunState, total=False):
    messages: Annotated[list[AnyMessage], add_messages]
    # Proposals from this turn's tool calls still to be governed, in order:
    # {"tool_call_id", "agent", "proposal"} (the proposal as JSON).
    chat_queue: list[dict[str, Any]]
    # Model calls since the user's last message (bounds a tool-calling loop).
    chat_rounds: int
    # This run's consecutive failed model calls (supervisor and specialists' writers) and the last
    # one's reason: the per-run breaker (tools/llm/breaker.py), reset by the user's next message.
    model_failures: int
    model_failure: str | None
