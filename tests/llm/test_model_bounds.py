"""Time and retry bounds of the model path, over real HTTP (the OpenAI-compatible test server and the
real langchain-openai client): bounded retries, timeouts, readable reasons, the per-run breaker."""

from __future__ import annotations

import time
from typing import Any

from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, ToolMessage

from graphs.chat.calls import checked
from graphs.chat.history import NO_RESULT, queued_inputs, repair
from tests.llm.openai_server import OpenAIServer, answer, stall, status
from tools.llm.breaker import ModelBreaker
from tools.llm.engine import LanguageEngine
from tools.llm.factory import make_chat_model
from tools.llm.schemas import PlanNarrative

MODEL = "openai-compatible:test-model"
PLAN: dict[str, Any] = {
    "sprint_name": "Sprint 24",
    "team_name": "Checkout squad",
    "capacity_points": 24,
    "velocity_p50": 20,
    "selected_points": 23,
    "selected_tasks": [{"name": "Payment retry flow", "points": 8, "assignee": "Ana", "score": 3.1}],
    "left_out": [],
    "risks": [],
}
GOOD = {"sprint_goal": "Ship reliable payments.", "narrative": "Scope is 23 points against 24.", "risks": []}


def engine_for(server: OpenAIServer, *, retries: int = 0, timeout: float = 10.0) -> LanguageEngine:
    model = make_chat_model(MODEL, base_url=server.base_url, timeout=timeout, max_retries=retries)
    return LanguageEngine(model, model_name=MODEL)


def write(engine: LanguageEngine) -> str:
    return engine.write("planner_summary", PLAN, PlanNarrative)[1]


def test_retries_are_bounded_by_the_setting() -> None:
    with OpenAIServer(*status(500, times=2), answer(GOOD)) as server:
        assert write(engine_for(server, retries=2)) == MODEL  # third attempt answered
        assert [r.headers.get("x-stainless-retry-count") for r in server.requests] == ["0", "1", "2"]
    with OpenAIServer(*status(500, times=2), answer(GOOD)) as server:
        label = write(engine_for(server, retries=1))
        assert len(server.requests) == 2
        assert (
            label
            == "offline (fallback: model error: the model server answered HTTP 500: The server had an error)"
        )


def test_a_stalled_model_is_given_up_on_after_the_timeout() -> None:
    with OpenAIServer(stall(30)) as server:
        started = time.monotonic()
        label = write(engine_for(server, timeout=0.3))
        assert time.monotonic() - started < 5
        assert label == "offline (fallback: model error: the model did not answer within 0.3 s)"


def test_the_run_breaker_stops_calling_a_failing_model() -> None:
    with OpenAIServer() as server:
        server.default = status(503)[0]
        breaker = ModelBreaker(threshold=2)
        engine = engine_for(server).for_run(breaker)
        labels = [write(engine) for _ in range(5)]
        assert len(server.requests) == 2  # then no call went out for the rest of the run
        assert labels[0].startswith("offline (fallback: model error: the model server answered HTTP 503")
        assert all("the model failed 2 calls in a row" in label for label in labels[2:])
        assert breaker.open
        # Another run (a fresh breaker) asks the model again; the shared engine was never tripped.
        server.default = None
        server.add(answer(GOOD))
        assert write(engine_for(server).for_run(ModelBreaker(threshold=2))) == MODEL


def test_a_model_answer_closes_the_breaker() -> None:
    with OpenAIServer(*status(500), answer(GOOD), *status(500), answer(GOOD)) as server:
        breaker = ModelBreaker(threshold=2)
        engine = engine_for(server).for_run(breaker)
        assert [write(engine) == MODEL for _ in range(4)] == [False, True, False, True]
        assert breaker.failures == 0 and not breaker.open


# --- the chat's checks, without a server ---------------------------------------------------------


def _call(i: str) -> dict[str, Any]:
    return {"name": "standup", "args": {}, "id": i, "type": "tool_call"}


def test_repair_answers_dangling_calls_and_keeps_an_intact_history_unchanged() -> None:
    human, later = HumanMessage("a", id="h1"), HumanMessage("b", id="h2")
    ai = AIMessage("", tool_calls=[_call("1"), _call("2")], id="ai")
    r1, r2 = ToolMessage("r1", tool_call_id="1", id="t1"), ToolMessage("r2", tool_call_id="2", id="t2")
    assert repair([human, ai, r2, r1, later]) is None
    # A message that arrived while call 1 was governed: its reply is moved up to the call.
    assert [m.id for m in repair([human, ai, r2, later, r1]) or []] == ["h1", "ai", "t2", "t1", "h2"]
    assert queued_inputs([human, ai, r2, later], "1") == [later]
    fixed = repair([human, ai, r2, later]) or []
    assert [getattr(m, "tool_call_id", None) for m in fixed] == [None, None, "2", "1", None]
    assert fixed[3].content == NO_RESULT
    orphan = ToolMessage("x", tool_call_id="nobody", id="o")
    assert [m.id for m in repair([human, orphan, later]) or []] == ["h1", "h2"]


def test_a_streamed_call_with_incomplete_arguments_is_not_executable() -> None:
    def chunk(args: str, finish: str | None) -> AIMessageChunk:
        meta = {"finish_reason": finish} if finish else {}
        return AIMessageChunk(
            content="",
            id="m",
            response_metadata=meta,
            tool_call_chunks=[
                {"name": "planner", "args": args, "id": "p", "index": 0, "type": "tool_call_chunk"}
            ],
        )

    complete = checked(chunk('{"capacity": 20}', "tool_calls"))
    assert complete.tool_calls[0]["args"] == {"capacity": 20} and not complete.invalid_tool_calls
    for args, finish in (('{"capacity": 2', None), ('{"capacity": 20}', "length"), ('{"a": 1,, }', "stop")):
        bad = checked(chunk(args, finish))
        assert bad.tool_calls == [] and [c["id"] for c in bad.invalid_tool_calls] == ["p"]
        assert bad.invalid_tool_calls[0]["args"] == args
