"""One conversation on one thread, as the terminal and the HTTP API drive it.

`send(text)` yields events while the graph runs: `token` (model output as it streams), `message`
(a finished assistant message), `tool` (a specialist's result), `approval` (the pending HITL
request), `notice`, `error`. While an approval is pending, text is read as a decision command
(approve / reject / edit / show / help) and answered with `Command(resume=...)`: new input is
never sent to a waiting thread (LangGraph would drop the interrupt): other text is refused with
a message that says it was not sent. A user who is not an approver is refused here and audited,
before the graph is touched.

A run that stopped part-way (a crash, an Asana outage) is finished before new text is sent, unless
it stopped in the supervisor's model call (which has no effects): then the new text is simply the
next question, never replaced by a replay of the old one. Whatever goes wrong while the graph runs
ends as one `error` event; the conversation stays usable.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from langchain_core.messages import AIMessage, AIMessageChunk, AnyMessage, HumanMessage, ToolMessage
from langgraph.types import Command

from graphs.approvers import Approvers
from graphs.chat.grammar import DecisionCommand, Grammar, GrammarError, MetaCommand
from graphs.chat.offline import decisions_for
from graphs.chat.resolve import ChatError
from graphs.context import RunContext
from graphs.ports import AuditRecord
from graphs.runner import pending_interrupt

log = logging.getLogger(__name__)

EventKind = Literal["token", "message", "tool", "approval", "notice", "error"]
PENDING_HINT = (
    "A proposal is waiting for your decision: `approve [all|N,M]`, `reject [all|N,M] [reason]`, "
    "`edit N {json}`, or `show`."
)
# Nodes a stopped run may be left at without anything to finish: the model call has no effects.
_RESTARTABLE = frozenset({"supervisor"})


def one_line(err: BaseException) -> str:
    text = " ".join(str(err).split()) or type(err).__name__
    return text if len(text) <= 300 else text[:299] + "…"


def not_sent(text: str, why: str) -> str:
    shown = " ".join(text.split())
    shown = shown if len(shown) <= 80 else shown[:79] + "…"
    return f"Your message {shown!r} was not sent: {why}"


@dataclass
class ChatEvent:
    kind: EventKind
    data: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"event": self.kind, **self.data}


def message_dict(msg: AnyMessage) -> dict[str, Any]:
    out: dict[str, Any] = {"id": msg.id, "role": msg.type, "content": msg.text}
    if isinstance(msg, AIMessage) and msg.tool_calls:
        out["tool_calls"] = [
            {"name": c["name"], "args": c["args"], "id": c.get("id")} for c in msg.tool_calls
        ]
    if isinstance(msg, ToolMessage):
        out["tool_call_id"] = msg.tool_call_id
        out["name"] = msg.name
        if isinstance(msg.artifact, dict):
            out["result"] = msg.artifact
    return out


class ChatSession:
    def __init__(
        self,
        graph: Any,
        context: RunContext | Callable[[], RunContext],
        thread_id: str,
        user: str,
        *,
        approvers: Approvers | None = None,
        on_new_approval: Callable[[str], None] | None = None,
    ) -> None:
        self.graph = graph
        self._context = context
        self.thread_id = thread_id
        self.user = user
        self.approvers = approvers or Approvers.anyone()
        # Called with the thread id when a turn leaves a new proposal waiting: the service closes
        # older waiting proposals about the same subject, as after a CLI or worker run.
        self._on_new_approval = on_new_approval
        self._run_failed = False

    @property
    def decided_by(self) -> str:
        return f"chat:{self.user}"

    def context(self) -> RunContext:
        return self._context if isinstance(self._context, RunContext) else self._context()

    def grammar(self) -> Grammar:
        """The offline command grammar of the specialists this chat can call."""
        return Grammar.from_registry(self.context().registry)

    def _config(self) -> dict[str, Any]:
        return {"configurable": {"thread_id": self.thread_id}}

    def pending(self) -> dict[str, Any] | None:
        return pending_interrupt(self.graph, self.thread_id)

    def messages(self) -> list[AnyMessage]:
        snapshot = self.graph.get_state(self._config())
        return list((snapshot.values or {}).get("messages") or [])

    def history(self) -> list[dict[str, Any]]:
        return [message_dict(m) for m in self.messages()]

    # --- one user turn -------------------------------------------------------------------------

    def send(self, text: str) -> Iterator[ChatEvent]:
        text = text.strip()
        if not text:
            yield ChatEvent("error", {"message": "say something, or type `help`"})
            return
        request = self.pending()
        if request is not None:
            yield from self._while_pending(text, request)
            return
        try:
            parsed = self.grammar().parse(text)
        except GrammarError:
            parsed = None  # the graph answers malformed commands itself
        if isinstance(parsed, DecisionCommand):
            yield ChatEvent("notice", {"message": "Nothing is waiting for approval."})
            return
        snapshot = self.graph.get_state(self._config())
        if snapshot.next and not set(snapshot.next) <= _RESTARTABLE:
            # A run stopped mid-way (crash, Asana outage) with governance to finish: finish it first.
            yield ChatEvent("notice", {"message": "Continuing the interrupted run first."})
            yield from self._run(None)
            if self._run_failed:
                why = "the interrupted run could not be finished; try again."
                yield ChatEvent("notice", {"message": not_sent(text, why)})
                return
            request = self.pending()
            if request is not None:
                why = "the interrupted run is waiting for a decision. " + PENDING_HINT
                yield ChatEvent("notice", {"message": not_sent(text, why)})
                return
        yield from self._run({"messages": [HumanMessage(content=text)]})

    def decide(self, decisions: list[dict[str, Any]], digest: str | None = None) -> Iterator[ChatEvent]:
        """Answer the pending request with explicit HITL decisions (the API's structured path)."""
        request = self.pending()
        if request is None:
            yield ChatEvent("notice", {"message": "Nothing is waiting for approval."})
            return
        if not self._may_approve(request):
            yield from self._refused(request)
            return
        value = {
            "decisions": decisions,
            "decided_by": self.decided_by,
            "digest": digest or request.get("digest"),
        }
        yield from self._run(Command(resume=value))

    def _while_pending(self, text: str, request: dict[str, Any]) -> Iterator[ChatEvent]:
        grammar = self.grammar()
        try:
            parsed = grammar.parse(text)
        except GrammarError as err:
            yield ChatEvent("error", {"message": str(err)})
            return
        if isinstance(parsed, MetaCommand):
            if parsed.type == "help":
                yield ChatEvent("notice", {"message": grammar.help})
            else:
                yield ChatEvent("approval", {"request": request})
            return
        if not isinstance(parsed, DecisionCommand):
            why = f"{PENDING_HINT[0].lower()}{PENDING_HINT[1:]} Then ask again."
            yield ChatEvent("notice", {"message": not_sent(text, why)})
            yield ChatEvent("approval", {"request": request})
            return
        if not self._may_approve(request):
            yield from self._refused(request)
            return
        try:
            decisions = decisions_for(parsed, request)
        except ChatError as err:
            yield ChatEvent("error", {"message": str(err)})
            return
        yield from self.decide(decisions, request.get("digest"))

    def _may_approve(self, request: dict[str, Any]) -> bool:
        return self.approvers.allows(self.decided_by)

    def _refused(self, request: dict[str, Any]) -> Iterator[ChatEvent]:
        reason = self.approvers.refusal(self.decided_by) or "not allowed"
        self.context().audit.append(
            AuditRecord(
                actor=f"human:{self.decided_by}",
                event="decision.unauthorized",
                outcome="denied",
                thread_id=self.thread_id,
                proposal_id=request.get("proposal_id"),
                reason=reason,
                details={"surface": "chat"},
            )
        )
        yield ChatEvent(
            "error", {"message": f"You may not decide on this proposal: {reason}. Nothing was changed."}
        )

    # --- running the graph ---------------------------------------------------------------------

    def _run(self, value: Any) -> Iterator[ChatEvent]:
        self._run_failed = False
        waiting_before = (self.pending() or {}).get("proposal_id")
        before = {m.id for m in self.messages()}
        streamed: set[str] = set()
        shown: set[str | None] = set()
        failure: str | None = None
        try:
            stream = self.graph.stream(
                value,
                self._config(),
                context=self.context(),
                stream_mode=["messages", "updates"],
                durability="sync",
            )
            for mode, item in stream:
                if mode == "updates":
                    # Specialists' results as soon as their node finishes, in conversation order
                    # (a repaired history re-sends the thread's old messages: those are not new).
                    for update in item.values() if isinstance(item, dict) else ():
                        for msg in (update or {}).get("messages", []) if isinstance(update, dict) else []:
                            if isinstance(msg, ToolMessage) and msg.id not in shown and msg.id not in before:
                                shown.add(msg.id)
                                yield ChatEvent("tool", message_dict(msg))
                    continue
                chunk, meta = item
                # Only the supervisor's tokens: specialists' own LLM calls are not the conversation.
                if (
                    isinstance(chunk, AIMessageChunk)
                    and meta.get("langgraph_node") == "supervisor"
                    and chunk.text
                ):
                    if chunk.id:
                        streamed.add(chunk.id)
                    yield ChatEvent("token", {"text": chunk.text, "id": chunk.id})
        except Exception as err:  # noqa: BLE001 - the surface shows one line, the thread is kept
            self._run_failed = True
            failure = one_line(err)
            log.info(  # the error event says it; the traceback only with DEBUG logging
                "chat run on thread %s stopped: %s",
                self.thread_id,
                failure,
                exc_info=log.isEnabledFor(logging.DEBUG),
            )
        for msg in self.messages():
            if msg.id in before:
                continue
            if isinstance(msg, ToolMessage):
                if msg.id not in shown:
                    yield ChatEvent("tool", message_dict(msg))
            elif isinstance(msg, AIMessage) and msg.text:
                yield ChatEvent("message", {**message_dict(msg), "streamed": msg.id in streamed})
        if failure is not None:
            yield ChatEvent(
                "error",
                {
                    "message": f"the run stopped: {failure}. The conversation is kept: send your "
                    "next message to continue it."
                },
            )
        request = self.pending()
        if request is not None:
            if self._on_new_approval is not None and request.get("proposal_id") != waiting_before:
                self._on_new_approval(self.thread_id)
            yield ChatEvent("approval", {"request": request})
