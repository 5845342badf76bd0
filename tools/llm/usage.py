"""What every model call cost: model, tokens in/out, latency, retries, outcome and fallback reason.

`UsageRecorder` is a LangChain callback handler the model factory attaches to every chat model it
makes (tools/llm/factory.py). It measures each call from `on_chat_model_start` to `on_llm_end` /
`on_llm_error`, reads the token counts the server reported (`usage_metadata`; streamed calls ask
for them with `stream_options.include_usage`), counts the openai client's own retries (an httpx
request hook sees every attempt of the call) and hands a `ModelCall` to its listeners: the
composition root attaches the app database (service/db/model_calls.py), which `/metrics` reads.

Labels: `LanguageEngine.write` is decorated with `measured_write`, so the calls of one write are
labelled with its prompt and agent (the prompt id's first word: `planner_summary` → planner) and
recorded when the write ends: an answer followed by another call, or by the offline writer, was
refused (schema or output guard) and is recorded as `invalid`; a write that ended offline adds a
`fallback` row with the reason (no tokens). A call outside a write is named after its LangGraph
node (the chat graph's `supervisor` → `chat`). The run is the LangGraph thread id from the call's
metadata.

Tracing: when the OpenTelemetry API is importable, each call is also a span (gen_ai semantic
conventions) on the global tracer provider; without an SDK provider configured (see
service/tracing.py) that is the API's no-op tracer.
"""

from __future__ import annotations

import contextvars
import functools
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar, cast
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.outputs import LLMResult
from pydantic import ValidationError

from tools.llm.breaker import describe_model_error

log = logging.getLogger(__name__)

Outcome = Literal["ok", "invalid", "error", "fallback"]
OUTCOMES: tuple[Outcome, ...] = ("ok", "invalid", "error", "fallback")
# LangGraph nodes whose unlabelled model calls belong to a known agent.
NODE_AGENTS = {"supervisor": "chat"}
_REASON_LIMIT = 300


@dataclass(frozen=True)
class ModelCall:
    model: str
    agent: str
    outcome: Outcome
    prompt: str | None = None
    thread_id: str | None = None
    tokens_in: int = 0
    tokens_out: int = 0
    latency_s: float = 0.0
    retries: int = 0
    streamed: bool = False
    reason: str | None = None
    at: datetime = field(default_factory=lambda: datetime.now(UTC))


Listener = Callable[[ModelCall], None]


def agent_of(prompt_id: str) -> str:
    """The agent a prompt belongs to: its id's first word (`standup_nudge` → standup)."""
    return prompt_id.split("_", 1)[0] if prompt_id else "unknown"


def _short(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= _REASON_LIMIT else line[: _REASON_LIMIT - 1] + "…"


def describe_refusal(err: BaseException) -> str:
    """Why an answer was refused, without the answer itself (validation errors quote the input)."""
    if isinstance(err, ValidationError):
        wrong = [f"{'.'.join(str(p) for p in e['loc']) or 'answer'}: {e['msg']}" for e in err.errors()]
        return _short(f"{err.error_count()} validation error(s) for {err.title}: " + "; ".join(wrong))
    return _short(f"{type(err).__name__}: {err}")


# --- attempts: the openai client's retries, seen by an httpx request hook ----------------------


@dataclass
class _Attempts:
    count: int = 0


_ATTEMPTS: contextvars.ContextVar[_Attempts | None] = contextvars.ContextVar(
    "sprintpilot_model_attempts", default=None
)


def count_attempt(request: Any) -> None:
    """httpx request hook: one more HTTP attempt of the model call running in this context."""
    attempts = _ATTEMPTS.get()
    if attempts is not None:
        attempts.count += 1


async def acount_attempt(request: Any) -> None:
    count_attempt(request)


# --- labels: the engine's writers mark their calls ---------------------------------------------


@dataclass
class _Scope:
    agent: str
    prompt: str | None
    calls: list[tuple[UsageRecorder, ModelCall]] = field(default_factory=list)

    def refuse_last(self, reason: str) -> None:
        """The caller refused the last answer (invalid output, or the output guard)."""
        if self.calls and self.calls[-1][1].outcome == "ok":
            recorder, call = self.calls[-1]
            self.calls[-1] = (recorder, replace(call, outcome="invalid", reason=_short(reason)))


_SCOPE: contextvars.ContextVar[_Scope | None] = contextvars.ContextVar(
    "sprintpilot_model_scope", default=None
)


@contextmanager
def labelled(prompt_id: str, agent: str | None = None) -> Iterator[_Scope]:
    """Label the model calls made inside (prompt, agent); they are recorded when the block ends.
    If the block raises after the model answered, the caller refused that answer: `invalid`."""
    scope = _Scope(agent or agent_of(prompt_id), prompt_id)
    token = _SCOPE.set(scope)
    try:
        yield scope
    except Exception as err:
        scope.refuse_last(describe_refusal(err))
        raise
    finally:
        _SCOPE.reset(token)
        for recorder, call in scope.calls:
            recorder.emit(call)


FALLBACK_PREFIX = "offline (fallback: "
W = TypeVar("W", bound=Callable[..., Any])


def measured_write(write: W) -> W:
    """Decorates `LanguageEngine.write(prompt_id, variables, schema) -> (result, label)`: its model
    calls are labelled with the prompt; an answer followed by another call was refused (the engine
    asks once more only after an unusable answer); a label "offline (fallback: <reason>)" marks the
    last answer refused for that reason and records the fallback."""

    @functools.wraps(write)
    def wrapper(engine: Any, prompt_id: str, *args: Any, **kwargs: Any) -> Any:
        with labelled(prompt_id) as scope:
            result = write(engine, prompt_id, *args, **kwargs)
            label = result[1] if isinstance(result, tuple) and len(result) == 2 else ""
            for i, (recorder, call) in enumerate(scope.calls[:-1]):
                if call.outcome == "ok":
                    scope.calls[i] = (recorder, replace(call, outcome="invalid", reason="answer refused"))
            reason = label[len(FALLBACK_PREFIX) : -1] if str(label).startswith(FALLBACK_PREFIX) else None
            if reason is not None:
                scope.refuse_last(reason)
        if reason is not None:
            note_fallback(getattr(engine, "model", None), prompt_id, reason)
        return result

    return cast(W, wrapper)


def _thread_id() -> str | None:
    try:
        from langgraph.config import get_config

        value = (get_config().get("configurable") or {}).get("thread_id")
    except Exception:  # noqa: BLE001 - outside a graph run there is no thread
        return None
    return str(value) if value else None


def recorder_of(model: Any) -> UsageRecorder | None:
    """The recorder attached to `model` by the factory, if any."""
    for handler in getattr(model, "callbacks", None) or []:
        if isinstance(handler, UsageRecorder):
            return handler
    return None


def note_fallback(model: Any, prompt_id: str, reason: str) -> None:
    """Record that a write of `prompt_id` ended with the offline writer, and why."""
    recorder = recorder_of(model)
    if recorder is not None:
        recorder.emit(
            ModelCall(
                model=recorder.model,
                agent=agent_of(prompt_id),
                prompt=prompt_id,
                thread_id=_thread_id(),
                outcome="fallback",
                reason=_short(reason),
            )
        )


# --- the recorder ------------------------------------------------------------------------------


@dataclass
class _Open:
    started: float
    at: datetime
    model: str
    agent: str
    prompt: str | None
    thread_id: str | None
    streamed: bool
    attempts: _Attempts
    scope: _Scope | None


def _tokens(response: LLMResult) -> tuple[int, int]:
    for generations in response.generations:
        for generation in generations:
            usage = getattr(getattr(generation, "message", None), "usage_metadata", None)
            if usage:
                return int(usage.get("input_tokens") or 0), int(usage.get("output_tokens") or 0)
    usage = (response.llm_output or {}).get("token_usage") or {}
    return int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0)


class UsageRecorder(BaseCallbackHandler):
    """Measures every call of the model it is attached to and hands a `ModelCall` to `listeners`."""

    run_inline = True  # called in the caller's context: the attempt counter is visible to httpx hooks

    def __init__(self, model: str, *, timeout: float | None = None) -> None:
        self.model = model
        self.timeout = timeout
        self.listeners: list[Listener] = []
        self._open: dict[UUID, _Open] = {}
        self._lock = threading.Lock()

    def add_listener(self, listener: Listener) -> None:
        if listener not in self.listeners:
            self.listeners.append(listener)

    def emit(self, call: ModelCall) -> None:
        _span(call)
        for listener in list(self.listeners):
            try:
                listener(call)
            except Exception as err:  # noqa: BLE001 - recording must never fail the model call
                log.warning("recording a model call failed: %s", err)

    def on_chat_model_start(
        self,
        serialized: dict[str, Any],
        messages: list[list[Any]],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        meta = metadata or {}
        params = kwargs.get("invocation_params") or {}
        scope = _SCOPE.get()
        node = str(meta.get("langgraph_node") or "")
        attempts = _Attempts()
        _ATTEMPTS.set(attempts)
        thread = meta.get("thread_id")
        with self._lock:
            self._open[run_id] = _Open(
                started=time.perf_counter(),
                at=datetime.now(UTC),
                model=str(params.get("model") or params.get("model_name") or self.model),
                agent=scope.agent if scope else NODE_AGENTS.get(node, node or "unknown"),
                prompt=scope.prompt if scope else None,
                thread_id=str(thread) if thread else None,
                streamed=bool(params.get("stream")),
                attempts=attempts,
                scope=scope,
            )

    def _close(self, run_id: UUID, outcome: Outcome, tokens: tuple[int, int], reason: str | None) -> None:
        with self._lock:
            opened = self._open.pop(run_id, None)
        if opened is None:
            return
        call = ModelCall(
            model=opened.model,
            agent=opened.agent,
            outcome=outcome,
            prompt=opened.prompt,
            thread_id=opened.thread_id,
            tokens_in=tokens[0],
            tokens_out=tokens[1],
            latency_s=time.perf_counter() - opened.started,
            retries=max(0, opened.attempts.count - 1),
            streamed=opened.streamed,
            reason=reason,
            at=opened.at,
        )
        if opened.scope is not None:
            opened.scope.calls.append((self, call))  # emitted when the scope ends (it may refuse it)
        else:
            self.emit(call)

    def on_llm_end(self, response: LLMResult, *, run_id: UUID, **kwargs: Any) -> None:
        self._close(run_id, "ok", _tokens(response), None)

    def on_llm_new_token(self, token: Any, *, run_id: UUID, **kwargs: Any) -> None:
        opened = self._open.get(run_id)
        if opened is not None:
            opened.streamed = True

    def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        if isinstance(error, ValueError):  # the answer did not parse or fit the schema
            self._close(run_id, "invalid", (0, 0), describe_refusal(error))
        else:  # HTTP error, timeout, connection (after the client's retries)
            self._close(run_id, "error", (0, 0), _short(describe_model_error(error, timeout=self.timeout)))


# --- OpenTelemetry (no-op unless an SDK tracer provider is configured) ----------------------------


def _span(call: ModelCall) -> None:
    if call.outcome == "fallback":
        return  # not a call: the write's offline fallback
    try:
        from opentelemetry import trace
    except ImportError:
        return
    end = time.time_ns()
    start = end - int(call.latency_s * 1e9)
    attributes: dict[str, Any] = {
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": call.model,
        "gen_ai.usage.input_tokens": call.tokens_in,
        "gen_ai.usage.output_tokens": call.tokens_out,
        "sprintpilot.agent": call.agent,
        "sprintpilot.outcome": call.outcome,
        "sprintpilot.retries": call.retries,
    }
    if call.prompt:
        attributes["sprintpilot.prompt"] = call.prompt
    if call.thread_id:
        attributes["sprintpilot.thread_id"] = call.thread_id
    if call.reason:
        attributes["sprintpilot.reason"] = call.reason
    tracer = trace.get_tracer("sprintpilot.model")
    span = tracer.start_span(f"chat {call.model}", start_time=start, attributes=attributes)
    if call.outcome in ("error", "invalid"):
        span.set_status(trace.Status(trace.StatusCode.ERROR, call.reason or call.outcome))
    span.end(end_time=end)
