"""Keeping a chat thread's history valid for a model API (LangChain's dangling-tool-call repair).

Chat-completions APIs refuse (400) a history in which an assistant message with tool calls is
not followed, right away, by one tool reply per call; once such a history is stored, every later
turn of the thread fails. `repair` runs before each model call, on every thread (also one
stored before this module existed):
- a call with no reply gets an error reply (it was never executed, or its result was lost);
- replies are moved right after the message that made the calls (a new message that arrived
  while a proposal waited for approval sits between the call and its governed result);
- a reply that answers no call, or answers one twice, is dropped.
`for_model` then replaces the stored, unparseable arguments of invalid calls with `{}` in what is
sent (some servers parse every stored call's arguments); the error reply says what was wrong.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

from langchain_core.messages import AIMessage, AnyMessage, HumanMessage, ToolMessage

NOT_JSON = "its arguments are not valid JSON (malformed, or incomplete because the answer was cut off)"
TRUNCATED = "the answer was cut off (finish_reason 'length') before its arguments were complete"
NO_RESULT = (
    "error: this call has no result: it was interrupted before it finished (nothing was changed "
    "by it); call the tool again if it is still needed."
)


def call_ids(msg: AIMessage) -> list[str]:
    """The ids of every call an assistant message made, valid or not, in order."""
    ids = [c.get("id") for c in msg.tool_calls] + [c.get("id") for c in msg.invalid_tool_calls]
    return [i for i in ids if i]


def invalid_call_reply(name: str | None, call_id: str, error: str | None) -> ToolMessage:
    """The tool error a model gets for a call that could not be executed (LangChain's wording,
    plus what to do about it)."""
    why = error if error in (NOT_JSON, TRUNCATED) else NOT_JSON
    return ToolMessage(
        f"error: the call to {name or 'an unnamed tool'} was not executed: {why}. Call the tool "
        "again with a complete JSON object of arguments that matches its schema.",
        tool_call_id=call_id,
        name=name or "unknown",
        status="error",
    )


def _missing_reply(msg: AIMessage, call_id: str) -> ToolMessage:
    for bad in msg.invalid_tool_calls:
        if bad.get("id") == call_id:
            return invalid_call_reply(bad.get("name"), call_id, bad.get("error"))
    name = next((c["name"] for c in msg.tool_calls if c.get("id") == call_id), "unknown")
    return ToolMessage(NO_RESULT, tool_call_id=call_id, name=name, status="error")


def repair(messages: Sequence[AnyMessage]) -> list[AnyMessage] | None:
    """The history with every tool call answered right after it; None when nothing changes."""
    replies: dict[str, ToolMessage] = {}
    position: dict[str, int] = {}
    for i, msg in enumerate(messages):
        if isinstance(msg, ToolMessage) and msg.tool_call_id not in replies:
            replies[msg.tool_call_id] = msg
            position[msg.tool_call_id] = i
    used: set[str] = set()
    out: list[AnyMessage] = []
    for msg in messages:
        if isinstance(msg, ToolMessage):
            continue  # placed after the call it answers (or dropped when it answers none)
        out.append(msg)
        if not isinstance(msg, AIMessage):
            continue
        # Replies in the order they were stored (an intact history comes out unchanged), then the
        # calls that have none.
        ids = [c for c in dict.fromkeys(call_ids(msg)) if c not in used]
        for call_id in sorted(ids, key=lambda c: position.get(c, len(messages))):
            used.add(call_id)
            out.append(replies.get(call_id) or _missing_reply(msg, call_id))
    if len(out) == len(messages) and all(a is b for a, b in zip(out, messages, strict=True)):
        return None
    return out


def for_model(messages: Sequence[AnyMessage]) -> list[AnyMessage]:
    """What is sent: invalid calls' raw arguments replaced by an empty object."""
    out: list[AnyMessage] = []
    for msg in messages:
        if isinstance(msg, AIMessage) and msg.invalid_tool_calls:
            cleaned = [{**c, "args": "{}"} for c in msg.invalid_tool_calls]
            msg = msg.model_copy(update={"invalid_tool_calls": cleaned})
        out.append(msg)
    return out


def queued_inputs(messages: Sequence[AnyMessage], call_id: str | None) -> list[HumanMessage]:
    """User messages that arrived after the call whose proposal is still being governed."""
    for i in range(len(messages) - 1, -1, -1):
        msg = messages[i]
        if isinstance(msg, AIMessage) and call_id in call_ids(msg):
            return [m for m in messages[i + 1 :] if isinstance(m, HumanMessage)]
    return []


# --- what the model is sent: the history within a budget ----------------------------------------

_OVERHEAD = 16  # role, ids and separators of one message, roughly


def message_chars(msg: AnyMessage) -> int:
    """The size one message adds to a request (its text and its calls' arguments)."""
    size = len(msg.text) + _OVERHEAD
    if isinstance(msg, AIMessage):
        size += sum(len(json.dumps(c.get("args") or {})) + len(c.get("name") or "") for c in msg.tool_calls)
        size += sum(len(str(c.get("args") or "")) for c in msg.invalid_tool_calls)
    return size


def _turns(messages: Sequence[AnyMessage]) -> list[list[AnyMessage]]:
    """The history cut before each user message: a call and its replies are never split (after
    `repair`, replies follow their call directly, so no user message sits between them)."""
    turns: list[list[AnyMessage]] = []
    for msg in messages:
        if isinstance(msg, HumanMessage) or not turns:
            turns.append([])
        turns[-1].append(msg)
    return turns


def fit_history(
    messages: Sequence[AnyMessage], budget_chars: int, shorten: Callable[[str], str]
) -> tuple[list[AnyMessage], list[AnyMessage]]:
    """(what is sent, the user messages of the turns left out), within `budget_chars`.

    Like LangChain's context editing, in this order until the history fits: the tool results of
    earlier turns are shortened with `shorten`, oldest first (the latest is shortened last); then
    the oldest turns are left out whole. The current turn (from the user's last message on) is
    always sent whole, and so is every call with its replies. The stored history is not changed.
    """
    turns = _turns(messages)
    if not turns or sum(message_chars(m) for m in messages) <= budget_chars:
        return list(messages), []
    current = turns.pop()
    earlier = [list(t) for t in turns]
    total = sum(message_chars(m) for t in [*earlier, current] for m in t)
    results = [(i, j) for i, t in enumerate(earlier) for j, m in enumerate(t) if isinstance(m, ToolMessage)]
    for i, j in results:
        if total <= budget_chars:
            break
        old = earlier[i][j]
        assert isinstance(old, ToolMessage)
        short = shorten(old.text)
        if len(short) < len(old.text):
            earlier[i][j] = old.model_copy(update={"content": short})
            total -= len(old.text) - len(short)
    dropped: list[AnyMessage] = []
    while earlier and total > budget_chars:
        turn = earlier.pop(0)
        total -= sum(message_chars(m) for m in turn)
        dropped += [m for m in turn if isinstance(m, HumanMessage)]
    return [m for t in [*earlier, current] for m in t], dropped
