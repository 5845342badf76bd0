"""Chat with the supervisor: a tool-calling (or offline command) supervisor over the specialists,
with every proposal governed by the existing policy → publish → gate → apply → report nodes."""

from graphs.approvers import Approvers
from graphs.chat.grammar import FREE_TEXT_NEEDS_MODEL, Grammar
from graphs.chat.graph import build_chat_graph
from graphs.chat.resolve import ChatError
from graphs.chat.session import ChatEvent, ChatSession
from graphs.chat.tools import SpecialistTool, specialist_tools

__all__ = [
    "FREE_TEXT_NEEDS_MODEL",
    "Approvers",
    "ChatError",
    "ChatEvent",
    "ChatSession",
    "Grammar",
    "SpecialistTool",
    "build_chat_graph",
    "specialist_tools",
]
