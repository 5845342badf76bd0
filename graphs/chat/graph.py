"""The chat graph: a tool-calling supervisor in front of the one governance path.

    START → supervisor ──(tool calls)──► tools ──(proposals with actions)──► next_proposal
               ▲   │                        │                                      │
               │   └─(answer)─► END         └─(only answers/errors)─► supervisor   ▼
               └──────────── settle ◄── report ◄── apply ◄── gate ◄── publish ◄── policy

The supervisor is a chat model with one tool per registered specialist, or (no model) the
offline command grammar producing the same tool calls. A tool call runs the specialist, which
only reads and returns a Proposal; each proposal with actions then goes through the existing
policy → publish → gate → apply → report nodes (graphs/), so the approval interrupt is the same
HITL payload every surface uses and the apply node stays the only writer. `settle` hands the
outcome back to the supervisor as the tool's result, and the supervisor answers.

Why a hand-rolled loop rather than `create_agent`: a tool's result must leave the agent loop and
enter deterministic governance nodes before the model sees it (LangChain's "custom workflow"
case); with `create_agent` that needs `Command(graph=PARENT)` hand-offs per tool call. The loop
here is the same model → tools → model cycle, with the governance detour in between, and it keeps
the guarantees of LangChain's agent middleware:
- before each model call the stored history is repaired (graphs/chat/history.py): every tool call
  is answered right after it, so one bad answer never poisons the thread;
- a tool call that cannot be executed (unparseable or cut-off arguments, graphs/chat/calls.py; an
  unknown tool; arguments that break the schema) is answered with a tool error the model can act on;
- a failed model call (HTTP error, timeout, after the client's bounded retries) becomes a one-line
  answer, or, with specialists' results at hand, an offline answer from them; the thread stays
  usable and the user's message stays in it;
- a per-run breaker (tools/llm/breaker.py) counts consecutive failed calls, the specialists'
  writers included; once open, the rest of the run is written offline and the answer says so;
- what the model reads is bounded: a tool result is a compact digest under its tool's cap, Asana
  text fenced (graphs/chat/digest.py); the conversation sent stays within `history_chars`, calls
  and replies together (graphs/chat/history.py `fit_history`); the system message gives today's
  date, the workspace and the projects in scope, which `list_projects` searches
  (graphs/chat/projects.py);
- new input that reaches the graph while a proposal is being governed (the Agent Server sends it
  to a thread waiting at the approval interrupt, which drops the interrupt) is not answered yet:
  the governance step is resumed, the request raised again with a notice that the message is
  queued, and the message is answered after the decision.
"""

from __future__ import annotations

import dataclasses
import difflib
import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import (
    AIMessage,
    AnyMessage,
    BaseMessage,
    HumanMessage,
    RemoveMessage,
    SystemMessage,
    ToolMessage,
)
from langgraph.errors import GraphBubbleUp
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import REMOVE_ALL_MESSAGES
from langgraph.runtime import Runtime
from langgraph.types import Command, Overwrite

from graphs.approvers import Approvers
from graphs.chat.calls import ask
from graphs.chat.digest import brief
from graphs.chat.gate import make_chat_gate
from graphs.chat.grammar import FREE_TEXT_NEEDS_MODEL, AgentCommand, Grammar, GrammarError, MetaCommand
from graphs.chat.history import fit_history, for_model, invalid_call_reply, repair
from graphs.chat.offline import answer_from_results, command_args
from graphs.chat.projects import LIST_PROJECTS, list_projects, scope_lines
from graphs.chat.projects import openai_schema as list_projects_schema
from graphs.chat.resolve import ChatError
from graphs.chat.state import ChatState
from graphs.chat.tools import SpecialistTool, run_tool, specialist_tools, tool_artifact, tool_result_text
from graphs.context import RunContext, current_thread_id
from graphs.governance import add_governance
from graphs.registry import SpecialistRegistry
from prompts.loader import load_prompt
from tools.llm.breaker import ModelBreaker, describe_model_error

log = logging.getLogger(__name__)

SUPERVISOR_PROMPT = "chat_supervisor"
DEFAULT_MAX_ROUNDS = 6
DEFAULT_BREAKER_FAILURES = 3
# What the supervisor is sent of the conversation (characters, about 4 per token); the system
# prompt and the tool schemas come on top. graphs/chat/history.py `fit_history` keeps it there.
DEFAULT_HISTORY_CHARS = 12_000
SCOPE_TTL_S = 60.0  # the workspace and project list in the system prompt are re-read after this
EARLIER_QUESTIONS = 8
HELP_WORDS = ("help", "/help", "?")
MODEL_ERROR = "model_error"  # response_metadata["sprintpilot"] of an answer standing in for the model's
NOTHING_PENDING = "Nothing is waiting for approval."
ContextProvider = Callable[[], RunContext]


def _context_of(provider: ContextProvider | None) -> Callable[[Runtime[Any]], RunContext]:
    def context_of(runtime: Runtime[Any]) -> RunContext:
        if isinstance(runtime.context, RunContext):
            return runtime.context
        if provider is None:
            raise RuntimeError("the chat graph needs a RunContext: invoke it with context=...")
        return provider()

    return context_of


def _with_context(node: Callable[..., Any], context_of: Callable[[Runtime[Any]], RunContext]) -> Any:
    """Run a graphs/ node with the RunContext (under `langgraph dev` none is passed in)."""

    def wrapped(state: ChatState, runtime: Runtime[Any]) -> Any:
        if not isinstance(runtime.context, RunContext):
            runtime = runtime.override(context=context_of(runtime))
        return node(state, runtime)

    wrapped.__name__ = getattr(node, "__name__", "node")
    return wrapped


def _reply(text: str) -> Command[Any]:
    return Command(goto=END, update={"messages": [AIMessage(content=text)]})


def _turn_results(messages: list[AnyMessage]) -> tuple[list[dict[str, Any]], list[str]]:
    """Artifacts and errors of the tool messages answering the latest tool-calling AI message."""
    artifacts: list[dict[str, Any]] = []
    errors: list[str] = []
    for msg in reversed(messages):
        if isinstance(msg, AIMessage):
            break
        if isinstance(msg, ToolMessage):
            if isinstance(msg.artifact, dict):
                artifacts.insert(0, msg.artifact)
            else:
                errors.insert(0, str(msg.content))
    return artifacts, errors


def _resume_target(state: ChatState) -> str:
    """Where the proposal being governed stands: the node that continues its governance."""
    head = (state.get("chat_queue") or [{}])[0]
    current = state.get("proposal") or {}
    if current.get("id") != (head.get("proposal") or {}).get("id"):
        return "next_proposal"
    if state.get("report") is not None:
        return "settle"
    if state.get("decisions"):
        return "apply"
    verdicts = state.get("verdicts") or []
    if not verdicts:
        return "policy"
    if not state.get("results"):
        return "publish"  # idempotent: the executor's ledger skips what it already wrote
    if any(v.get("approval_class") == "needs_approval" for v in verdicts):
        return "gate"
    return "apply"


def _messages_update(repaired: list[AnyMessage] | None, new: list[AnyMessage]) -> list[BaseMessage]:
    """The state's messages update: the repaired history (replacing the stored one), then `new`."""
    head: list[BaseMessage] = (
        [RemoveMessage(id=REMOVE_ALL_MESSAGES), *repaired] if repaired is not None else []
    )
    return [*head, *new]


def _offline_answer(messages: list[AnyMessage], note: str) -> AIMessage:
    """The answer from the specialists' results when the model cannot write it, saying so."""
    body = answer_from_results(*_turn_results(messages))
    return AIMessage(
        content=f"{body}\n\n*({note[0].upper()}{note[1:]}.)*",
        response_metadata={"sprintpilot": MODEL_ERROR},
    )


def _could_not_answer(reason: str) -> AIMessage:
    return AIMessage(
        content=(
            f"Sorry, I could not answer: {reason}. Your message is kept in this conversation: ask "
            "again in a moment, or type `help` for the commands that work without the model."
        ),
        response_metadata={"sprintpilot": MODEL_ERROR},
    )


def _specialist_lines(tools: list[SpecialistTool]) -> str:
    return "\n".join(f"- {t.name}: {t.description}" for t in tools) or "- (none registered)"


def _earlier(dropped: list[AnyMessage]) -> str:
    """What the system prompt says of the turns left out of the history: the user's questions."""
    if not dropped:
        return ""
    shown = [" ".join(m.text.split())[:160] for m in dropped[-EARLIER_QUESTIONS:]]
    more = len(dropped) - len(shown)
    lines = [
        "",
        "Earlier in this conversation (left out here to save context; ask a specialist again for "
        f"details) the user asked{f' {more} more questions and' if more else ''}:",
        *(f"- {q}" for q in shown),
    ]
    return "\n".join(lines)


def _unknown_command(text: str, grammar: Grammar) -> str:
    """Free text offline: say a model is needed, and suggest a command when one was mistyped."""
    word = text.strip().split(maxsplit=1)[0].lower() if text.strip() else ""
    close = difflib.get_close_matches(word, grammar.verbs, n=1, cutoff=0.75) if len(word) >= 4 else []
    if close:
        return f"Unknown command {word!r}: did you mean `{close[0]}`? {FREE_TEXT_NEEDS_MODEL}"
    return FREE_TEXT_NEEDS_MODEL


def build_chat_graph(
    registry: SpecialistRegistry,
    *,
    model: BaseChatModel | None = None,
    approvers: Approvers | None = None,
    default_decider: str | None = None,
    context_provider: ContextProvider | None = None,
    max_rounds: int = DEFAULT_MAX_ROUNDS,
    breaker_failures: int = DEFAULT_BREAKER_FAILURES,
    history_chars: int = DEFAULT_HISTORY_CHARS,
) -> StateGraph[ChatState, RunContext, ChatState, ChatState]:
    """The uncompiled chat graph; compile it with the runtime's checkpointer.

    `model`: a chat model supporting `bind_tools`, or None for the offline command grammar.
    `approvers`: who may decide in chat (default: anyone). `default_decider`: the identity used
    for answers that carry none (LangChain's Agent Chat UI). `context_provider`: builds the
    RunContext when the caller passes none (`langgraph dev`). `breaker_failures`: consecutive
    failed model calls in one run after which the rest of the run is written offline.
    `history_chars`: the budget of the conversation sent to the model (earlier tool results are
    shortened, then the oldest turns left out; the stored conversation is kept whole).
    """
    tools = {t.name: t for t in specialist_tools(registry)}
    grammar = Grammar.from_registry(registry)
    context_of = _context_of(context_provider)
    schemas = [*(t.openai_schema() for t in tools.values()), list_projects_schema()]
    bound = model.bind_tools(schemas) if model is not None else None
    timeout = getattr(model, "request_timeout", None)
    specialist_lines = _specialist_lines(list(tools.values()))
    # Per thread: the tool loop of one turn reads the scope once; a long chat re-reads it.
    scope_cache: dict[tuple[Any, ...], tuple[float, tuple[str, str]]] = {}

    def system_prompt(ctx: RunContext, dropped: list[AnyMessage]) -> str:
        """The supervisor's instructions with today's date, the workspace and the projects in
        scope (re-read every SCOPE_TTL_S), and the questions of turns left out of the history."""
        scope = (ctx.default_workspace_gid, ctx.allowed_workspace_gids, ctx.allowed_project_gids)
        key, now = (current_thread_id(), *scope), time.monotonic()
        cached = scope_cache.get(key)
        if cached is None or now - cached[0] > SCOPE_TTL_S:
            for old in [k for k, (at, _) in scope_cache.items() if now - at > SCOPE_TTL_S]:
                del scope_cache[old]
            cached = scope_cache[key] = (now, scope_lines(ctx))
        workspace, projects = cached[1]
        return load_prompt(SUPERVISOR_PROMPT).render(
            today=ctx.now().strftime("%A %Y-%m-%d"),
            workspace=workspace,
            projects=projects,
            specialists=specialist_lines,
            earlier=_earlier(dropped),
        )

    def defer(state: ChatState) -> Command[Any]:
        """New input while a proposal is governed: continue its governance; the input waits."""
        target = _resume_target(state)
        log.info("chat input arrived while a proposal is governed: queued, resuming at %s", target)
        return Command(goto=target)

    def offline_turn(state: ChatState, runtime: Runtime[Any]) -> Command[Any]:
        if state.get("chat_queue"):
            return defer(state)
        messages = state.get("messages") or []
        last = messages[-1] if messages else None
        if isinstance(last, ToolMessage):
            return _reply(answer_from_results(*_turn_results(messages)))
        if not isinstance(last, HumanMessage):
            return Command(goto=END)
        text = last.text
        try:
            parsed = grammar.parse(text)
        except GrammarError as err:
            return _reply(str(err))
        if parsed is None:
            return _reply(_unknown_command(text, grammar))
        if isinstance(parsed, MetaCommand):
            return _reply(grammar.help if parsed.type == "help" else NOTHING_PENDING)
        if not isinstance(parsed, AgentCommand):
            return _reply(NOTHING_PENDING)
        tool = tools.get(parsed.agent)
        if tool is None:
            available = ", ".join(tools) or "none"
            return _reply(f"The {parsed.agent!r} specialist is not available here (available: {available}).")
        try:
            args = command_args(parsed, tool, context_of(runtime))
        except ChatError as err:
            return _reply(str(err))
        call = {"name": tool.name, "args": args, "id": f"call_{uuid.uuid4().hex[:16]}", "type": "tool_call"}
        return Command(goto="tools", update={"messages": [AIMessage(content="", tool_calls=[call])]})

    def offline_command(state: ChatState, runtime: Runtime[Any], text: str) -> Command[Any] | None:
        """The offline grammar's turn when the text is a command (it needs no model), else None."""
        try:
            parsed = grammar.parse(text)
        except GrammarError:
            return None
        if isinstance(parsed, AgentCommand | MetaCommand):
            return offline_turn(state, runtime)
        return None

    def model_turn(state: ChatState, runtime: Runtime[Any]) -> Command[Any]:
        assert bound is not None
        if state.get("chat_queue"):
            return defer(state)
        stored = state.get("messages") or []
        repaired = repair(stored)
        messages = repaired if repaired is not None else stored
        last = messages[-1] if messages else None
        new_turn = isinstance(last, HumanMessage)
        breaker = ModelBreaker(
            breaker_failures,
            0 if new_turn else int(state.get("model_failures") or 0),
            None if new_turn else state.get("model_failure"),
        )

        def done(goto: str, new: list[AnyMessage], **extra: Any) -> Command[Any]:
            update = {
                "messages": _messages_update(repaired, new),
                "model_failures": breaker.failures,
                "model_failure": breaker.reason,
                **extra,
            }
            return Command(goto=goto, update=update)

        if isinstance(last, HumanMessage) and last.text.strip().lower() in HELP_WORDS:
            return done(END, [AIMessage(content=grammar.help)])
        rounds = 0 if new_turn else int(state.get("chat_rounds") or 0)
        if rounds >= max_rounds:
            text = f"I stopped after {max_rounds} rounds of specialist calls; please narrow the question."
            return done(END, [AIMessage(content=text)])
        if breaker.open:
            return done(END, [_offline_answer(messages, breaker.note())])
        sent, dropped = fit_history(for_model(messages), history_chars, brief)
        system = system_prompt(context_of(runtime), dropped)
        try:
            ai = ask(bound, [SystemMessage(content=system), *sent])
        except GraphBubbleUp:
            raise
        except Exception as err:  # noqa: BLE001 - any failed model call becomes an answer
            reason = describe_model_error(err, timeout=timeout)
            breaker.failed(reason)
            # The answer says why; the traceback only with DEBUG logging (SPRINTPILOT_DEBUG=1).
            log.info("chat model call failed: %s", reason, exc_info=log.isEnabledFor(logging.DEBUG))
            if isinstance(last, HumanMessage):
                fallback = offline_command(state, runtime, last.text)
                if fallback is not None and isinstance(fallback.update, dict):
                    return done(str(fallback.goto), list(fallback.update.get("messages") or []))
                return done(END, [_could_not_answer(reason)])
            note = (
                breaker.note()
                if breaker.open
                else f"the model could not write this answer ({reason}); it was written offline"
            )
            return done(END, [_offline_answer(messages, note)])
        breaker.succeeded()
        goto = "tools" if ai.tool_calls or ai.invalid_tool_calls else END
        return done(goto, [ai], chat_rounds=rounds + 1)

    def run_tools(state: ChatState, runtime: Runtime[Any]) -> Command[Any]:
        messages = state.get("messages") or []
        ai = next((m for m in reversed(messages) if isinstance(m, AIMessage)), None)
        answered = {m.tool_call_id for m in messages if isinstance(m, ToolMessage)}
        # The specialists' writers count into this run's breaker (and skip the model once it is open).
        breaker = ModelBreaker(
            breaker_failures, int(state.get("model_failures") or 0), state.get("model_failure")
        )
        ctx = context_of(runtime)
        for_run = getattr(ctx.language, "for_run", None)
        if for_run is not None:
            ctx = dataclasses.replace(ctx, language=for_run(breaker))
        replies: list[ToolMessage] = []
        queue: list[dict[str, Any]] = []
        for bad in ai.invalid_tool_calls if ai is not None else []:
            bad_id = bad.get("id")
            if bad_id and bad_id not in answered:
                replies.append(invalid_call_reply(bad.get("name"), bad_id, bad.get("error")))
        for call in ai.tool_calls if ai is not None else []:
            call_id = call.get("id") or ""
            if call_id in answered:
                continue
            tool = tools.get(call["name"])
            try:
                if call["name"] == LIST_PROJECTS:
                    text, found = list_projects(call.get("args"), ctx)
                    replies.append(
                        ToolMessage(text, tool_call_id=call_id, name=LIST_PROJECTS, artifact=found)
                    )
                    continue
                if tool is None:
                    available = ", ".join([*tools, LIST_PROJECTS])
                    raise ChatError(f"unknown tool {call['name']!r}; available: {available}")
                proposal = run_tool(tool, call.get("args"), ctx)
            except ChatError as err:
                replies.append(
                    ToolMessage(f"error: {err}", tool_call_id=call_id, name=call["name"], status="error")
                )
                continue
            except Exception as err:  # noqa: BLE001 - a failing specialist becomes an error result
                # No traceback on the terminal (it is the chat's screen); with DEBUG logging, there is.
                log.warning(
                    "specialist %s failed in chat: %s",
                    call["name"],
                    err,
                    exc_info=log.isEnabledFor(logging.DEBUG),
                )
                replies.append(
                    ToolMessage(
                        f"error: the {call['name']} specialist failed: {err}",
                        tool_call_id=call_id,
                        name=call["name"],
                        status="error",
                    )
                )
                continue
            data = proposal.model_dump(mode="json")
            if proposal.actions:
                queue.append({"tool_call_id": call_id, "agent": proposal.agent, "proposal": data})
            else:
                replies.append(
                    ToolMessage(
                        tool_result_text(data, None),
                        tool_call_id=call_id,
                        name=call["name"],
                        artifact=tool_artifact(data, None),
                    )
                )
        return Command(
            goto="next_proposal" if queue else "supervisor",
            update={
                "messages": replies,
                "chat_queue": queue,
                "model_failures": breaker.failures,
                "model_failure": breaker.reason,
            },
        )

    def next_proposal(state: ChatState, runtime: Runtime[Any]) -> dict[str, Any]:
        item = (state.get("chat_queue") or [])[0]
        ctx = context_of(runtime)
        thread_id = current_thread_id()
        # One run row per chat thread (publish/gate/report update its status).
        ctx.repo.record_run(thread_id, "chat", "chat", {"agent": item["agent"]})
        ctx.repo.set_run_status(thread_id, "running")
        return {
            "proposal": item["proposal"],
            "agent": item["agent"],
            "verdicts": [],
            "results": Overwrite({}),
            "approval_task_gid": None,
            "decisions": {},
            "decided_by": None,
            "invalid_decisions": Overwrite([]),
            "report": None,
            "error": None,
        }

    def settle(state: ChatState) -> Command[Any]:
        queue = list(state.get("chat_queue") or [])
        item = queue.pop(0)
        proposal = state.get("proposal") or item["proposal"]
        report = state.get("report")
        reply = ToolMessage(
            tool_result_text(proposal, report, state.get("verdicts")),
            tool_call_id=item["tool_call_id"],
            name=item["agent"],
            artifact=tool_artifact(proposal, report),
        )
        return Command(
            goto="next_proposal" if queue else "supervisor",
            update={"messages": [reply], "chat_queue": queue},
        )

    # Served by the Agent Server (a context provider given), the run carries no RunContext: the
    # server would try to build one from the run's (empty) `context`, so none is declared and
    # every node takes it from the provider instead.
    graph: StateGraph[ChatState, RunContext, ChatState, ChatState] = StateGraph(
        ChatState, context_schema=RunContext if context_provider is None else None
    )
    graph.add_node(
        "supervisor",
        model_turn if model is not None else offline_turn,
        # END or tools; or, with new input during governance, the governance step to continue.
        destinations=("tools", END, "next_proposal", "policy", "publish", "gate", "apply", "settle"),
    )
    graph.add_node("tools", run_tools, destinations=("next_proposal", "supervisor"))
    graph.add_node("next_proposal", next_proposal)
    entry = add_governance(
        graph,
        then="settle",
        gate=make_chat_gate(approvers or Approvers.anyone(), default_decider, context_of),
        wrap=lambda node: _with_context(node, context_of),
    )
    graph.add_node("settle", settle, destinations=("next_proposal", "supervisor"))
    graph.add_edge(START, "supervisor")
    graph.add_edge("next_proposal", entry)
    return graph
