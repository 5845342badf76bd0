"""The chat against a real OpenAI-compatible server (real HTTP, the real langchain-openai client)
that misbehaves: invalid or truncated tool calls, unknown tools, 500s, stalls, new input while an
approval is pending. The thread must never be poisoned and the terminal never shows a traceback.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_openai.chat_models.base import _convert_message_to_dict
from rich.console import Console

from graphs.chat import ChatEvent, ChatSession
from graphs.chat.tools import run_tool, specialist_tools
from service.chat_runtime import chat_model, chat_session
from service.cli.chat import chat_loop
from service.runtime import Runtime
from service.settings import load_settings
from tests.llm.openai_server import (
    OpenAIServer,
    call,
    cut,
    history_problem,
    stall,
    status,
    text,
    tool_calls,
    truncated,
)
from tools.llm.engine import LanguageEngine
from tools.llm.factory import make_chat_model

MODEL = "openai-compatible:test-model"


def model_for(server: OpenAIServer, *, timeout: float = 10.0, retries: int = 2) -> Any:
    return make_chat_model(MODEL, base_url=server.base_url, timeout=timeout, max_retries=retries)


def stored_problem(session: ChatSession) -> str | None:
    """What the model API would say about this thread's stored history (None: it is valid). The
    raw arguments of an invalid call are kept on record; they are replaced by `{}` when sent."""
    stored = [_convert_message_to_dict(m) for m in session.messages()]
    return history_problem(stored, strict_arguments=False)


def answers(events: list[ChatEvent]) -> list[str]:
    return [e.data["content"] for e in events if e.kind == "message"]


def tool_events(events: list[ChatEvent]) -> list[dict[str, Any]]:
    return [e.data for e in events if e.kind == "tool"]


def tool_replies(request: Any) -> dict[str, str]:
    return {m["tool_call_id"]: str(m.get("content")) for m in request.messages if m.get("role") == "tool"}


def run_loop(session: ChatSession, *lines: str) -> str:
    feed = iter([*lines, "/quit"])
    console = Console(record=True, width=200)
    chat_loop(session, lambda prompt: next(feed), console)
    return console.export_text()


# --- invalid tool calls ------------------------------------------------------------------------


def test_unparseable_tool_arguments_are_answered_as_a_tool_error_and_the_thread_stays_usable(
    rt: Runtime,
) -> None:
    with OpenAIServer(
        tool_calls(call("standup", '{"project": "Sprint 23",, }', "bad")),
        tool_calls(call("standup", {"project": "Sprint 23"}, "good")),
        text("Sprint 23: 8 of 45 points remain."),
        text("You're welcome."),
    ) as server:
        session = chat_session(rt, "t-badjson", "priya.brooks@acme.example", model=model_for(server))
        out = run_loop(session, "How is Sprint 23 going?", "thanks")
        assert "Traceback" not in out and "\nerror:" not in out
        assert "Sprint 23: 8 of 45 points remain." in out and "You're welcome." in out
        # The model was told, as the tool's result, that its call could not be executed ...
        assert "not valid JSON" in tool_replies(server.requests[1])["bad"]
        # ... and the specialist ran once, for the corrected call.
        assert [r.status for r in server.requests] == [200, 200, 200, 200]
        assert list(tool_replies(server.requests[2])) == ["bad", "good"]
        assert stored_problem(session) is None


def test_unknown_tool_and_schema_violation_are_tool_errors_the_model_recovers_from(rt: Runtime) -> None:
    with OpenAIServer(
        tool_calls(call("deploy_to_production", {}, "u1"), call("standup", {"project": 42, "x": 1}, "s1")),
        text("I can only run the registered specialists."),
        text("Still here."),
    ) as server:
        session = chat_session(rt, "t-unknown", "priya.brooks@acme.example", model=model_for(server))
        events = list(session.send("deploy it"))
        replies = tool_replies(server.requests[1])
        assert "unknown tool 'deploy_to_production'" in replies["u1"]
        assert "invalid arguments" in replies["s1"]
        assert answers(events)[-1] == "I can only run the registered specialists."
        assert answers(list(session.send("ok?"))) == ["Still here."]
        assert rt.repo.list_proposals() == [] and stored_problem(session) is None


@pytest.mark.parametrize("fault", [truncated, cut], ids=["finish_reason_length", "stream_cut"])
def test_a_truncated_streamed_tool_call_is_never_executed(rt: Runtime, fault: Any) -> None:
    full = call("planner", {"project": "Product Backlog", "capacity": 20}, "p1")
    # Cut right after the "2" of 20: a lenient parser would plan with a capacity of 2.
    step = fault(full, full.raw.index("20") + 1)
    with OpenAIServer(step, text("My answer was cut off; please ask again.")) as server:
        session = chat_session(
            rt, f"t-trunc-{fault.__name__}", "priya.brooks@acme.example", model=model_for(server)
        )
        events = list(session.send("Plan the next sprint with 20 points"))
        assert rt.repo.list_proposals() == []  # the planner never ran
        assert session.pending() is None
        reply = tool_replies(server.requests[1])["p1"]
        assert "not executed" in reply and ("cut off" in reply or "incomplete" in reply)
        assert answers(events)[-1] == "My answer was cut off; please ask again."
        assert stored_problem(session) is None


def test_a_thread_poisoned_before_the_fix_is_repaired_before_the_next_model_call(rt: Runtime) -> None:
    with OpenAIServer(text("Sprint 23 is on track.")) as server:
        session = chat_session(rt, "t-poisoned", "priya.brooks@acme.example", model=model_for(server))
        dangling = AIMessage(
            content="",
            invalid_tool_calls=[
                {"type": "invalid_tool_call", "id": "old", "name": "standup", "args": '{"pro', "error": None}
            ],
        )
        session.graph.update_state(
            {"configurable": {"thread_id": "t-poisoned"}},
            {"messages": [HumanMessage("How is Sprint 23?"), dangling]},
            as_node="supervisor",
        )
        assert stored_problem(session) is not None  # what the old code left behind
        events = list(session.send("And now?"))
        assert answers(events) == ["Sprint 23 is on track."]
        assert server.requests[0].status == 200
        assert "old" in tool_replies(server.requests[0])
        assert stored_problem(session) is None  # repaired in the checkpoint too


# --- model errors --------------------------------------------------------------------------------


def test_three_500s_answer_in_one_line_and_the_reopened_thread_answers_the_next_question(
    rt: Runtime,
) -> None:
    with OpenAIServer(*status(500, times=3), text("The blockers are the API migration.")) as server:
        first = chat_session(rt, "t-500", "priya.brooks@acme.example", model=model_for(server, retries=2))
        out = run_loop(first, "How is Sprint 23 going?")
        assert "Traceback" not in out
        assert len(server.requests) == 3  # one call, two retries (the configured bound)
        line = next(ln for ln in out.splitlines() if "HTTP 500" in ln)
        assert "could not answer" in line.lower()
        # Reopened (a new session on the same thread): the next question is what the model is asked.
        again = chat_session(rt, "t-500", "priya.brooks@acme.example", model=model_for(server))
        out = run_loop(again, "What blocks us?")
        assert "Continuing the interrupted run" not in out
        assert server.requests[-1].last_user_text == "What blocks us?"
        assert "The blockers are the API migration." in out
        texts = [m.text for m in again.messages() if isinstance(m, HumanMessage)]
        assert texts == ["How is Sprint 23 going?", "What blocks us?"]  # nothing dropped
        assert stored_problem(again) is None


def test_sprintpilot_chat_survives_500s_and_answers_the_next_question_when_reopened(tmp_path: Path) -> None:
    """The reproduction as a user meets it: the real `sprintpilot chat` process, twice."""
    with OpenAIServer(*status(500, times=3), text("The blockers are the API migration.")) as server:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SPRINTPILOT_")}
        env.update(
            SPRINTPILOT_DATA_DIR=str(tmp_path),
            SPRINTPILOT_MODEL=MODEL,
            SPRINTPILOT_MODEL_BASE_URL=server.base_url,
            SPRINTPILOT_MODEL_MAX_RETRIES="2",
            COLUMNS="200",
        )

        def chat(line: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "service.cli.main",
                    "chat",
                    "--thread",
                    "t-cli",
                    "--as",
                    "priya.brooks@acme.example",
                ],
                input=f"{line}\n/quit\n",
                cwd=Path(__file__).resolve().parents[2],
                env=env,
                capture_output=True,
                text=True,
                timeout=240,
            )

        first = chat("How is Sprint 23 going?")
        assert first.returncode == 0, first.stderr[-2000:]
        assert "Traceback" not in first.stdout + first.stderr
        assert "HTTP 500" in first.stdout and len(server.requests) == 3
        second = chat("What blocks us?")
        assert second.returncode == 0 and "Traceback" not in second.stdout + second.stderr
        assert "Continuing the interrupted run" not in second.stdout
        assert server.requests[-1].last_user_text == "What blocks us?"
        assert "The blockers are the API migration." in second.stdout


def test_a_run_that_died_in_the_model_call_is_not_replayed_over_the_next_question(rt: Runtime) -> None:
    with OpenAIServer(text("Here is the answer to the new question.")) as server:
        session = chat_session(rt, "t-died", "priya.brooks@acme.example", model=model_for(server))
        # What a process killed during the model call leaves: the question, `next` = supervisor.
        session.graph.update_state(
            {"configurable": {"thread_id": "t-died"}},
            {"messages": [HumanMessage("the old question")]},
            as_node="__start__",
        )
        assert session.graph.get_state({"configurable": {"thread_id": "t-died"}}).next == ("supervisor",)
        events = list(session.send("the new question"))
        assert len(server.requests) == 1
        assert server.requests[0].last_user_text == "the new question"
        assert answers(events) == ["Here is the answer to the new question."]
        texts = [m.text for m in session.messages() if isinstance(m, HumanMessage)]
        assert texts == ["the old question", "the new question"]


@pytest.mark.parametrize("code", [400, 429])
def test_a_refused_or_rate_limited_call_is_a_one_line_answer(rt: Runtime, code: int) -> None:
    with OpenAIServer(*status(code, times=3), text("Fine now.")) as server:
        session = chat_session(
            rt, f"t-{code}", "priya.brooks@acme.example", model=model_for(server, retries=2)
        )
        (line,) = answers(list(session.send("How is Sprint 23?")))
        assert f"could not answer: the model server answered HTTP {code}" in line and "\n" not in line
        assert len(server.requests) == (1 if code == 400 else 3)  # 400 is not retried; 429 is, twice
        server.script.clear()
        server.add(text("Fine now."))
        assert answers(list(session.send("And now?"))) == ["Fine now."]


def test_a_stalled_model_times_out_with_a_readable_answer(rt: Runtime) -> None:
    with OpenAIServer(stall(30), text("Back again.")) as server:
        session = chat_session(
            rt, "t-stall", "priya.brooks@acme.example", model=model_for(server, timeout=0.5, retries=0)
        )
        started = time.monotonic()
        events = list(session.send("Are you there?"))
        assert time.monotonic() - started < 10
        (line,) = answers(events)
        assert "did not answer within 0.5 s" in line and "\n" not in line
        assert answers(list(session.send("Now?"))) == ["Back again."]


def test_timeouts_and_retries_come_from_settings(tmp_path: Any) -> None:
    settings = load_settings(
        data_dir=tmp_path,
        model=MODEL,
        model_base_url="http://127.0.0.1:9/v1",
        model_timeout_s=7,
        model_max_retries=1,
    )
    model = chat_model(settings)
    assert model.request_timeout == 7 and model.max_retries == 1
    defaults = load_settings(data_dir=tmp_path)
    assert defaults.model_timeout_s == 60 and defaults.model_max_retries == 2
    assert make_chat_model(MODEL, base_url="http://x/v1").request_timeout == 60


def test_the_terminal_never_prints_a_traceback(rt: Runtime) -> None:
    session = chat_session(rt, "t-boom", "priya.brooks@acme.example")

    def boom(text: str) -> Any:
        raise RuntimeError("checkpoint database went away\nwith a second line")
        yield  # pragma: no cover

    session.send = boom  # type: ignore[method-assign]
    out = run_loop(session, "hello", "hello again")
    assert "Traceback" not in out
    assert out.count("error:") == 2 and "checkpoint database went away with a second line" in out


# --- circuit breaker -----------------------------------------------------------------------------


def test_after_n_model_failures_the_rest_of_the_run_is_written_offline(rt: Runtime) -> None:
    rt.settings = rt.settings.model_copy(update={"model_breaker_failures": 2})
    with OpenAIServer(
        tool_calls(
            call("standup", {"project": "Sprint 23"}, "s"),
            call("dependencies", {"projects": ["Product Backlog"]}, "d"),
        )
    ) as server:
        server.default = status(500)[0]  # the model is down from now on
        model = model_for(server, retries=0)
        rt.language = LanguageEngine(model, model_name=MODEL)
        session = chat_session(rt, "t-breaker", "priya.brooks@acme.example", model=model)
        events = list(session.send("How is Sprint 23, and what blocks us?"))
        while session.pending() is not None:
            events += list(session.send("reject not now"))
        # Two failed writer calls opened the breaker: no further call went out in this run.
        assert len(server.requests) == 1 + 2
        assert len(server.chat_requests) == 1
        final = answers(events)[-1]
        assert "offline" in final and "HTTP 500" in final
        assert tool_events(events)  # the specialists' results still reached the user
        # The next turn tries the model again (the breaker is per run).
        server.default = None
        server.add(text("Model is back."))
        assert answers(list(session.send("hello"))) == ["Model is back."]


def test_an_agent_run_stops_calling_a_down_model_after_n_failures_and_the_next_run_tries_again(
    rt: Runtime,
) -> None:
    """Outside the chat too: every run context (`Runtime.context()`) carries its own breaker."""
    rt.settings = rt.settings.model_copy(update={"model_breaker_failures": 2})
    with OpenAIServer() as server:
        server.default = status(500)[0]
        rt.language = LanguageEngine(model_for(server, retries=0), model_name=MODEL)
        tool = {t.name: t for t in specialist_tools(rt.registry)}["dependencies"]
        proposal = run_tool(tool, {"projects": ["Product Backlog"]}, rt.context())
        assert len(server.requests) == 2  # not one failed call per alert
        assert len([a for a in proposal.actions if a.kind.value == "post_comment"]) > 2
        assert proposal.model.startswith("offline (fallback:")
        run_tool(tool, {"projects": ["Product Backlog"]}, rt.context())
        assert len(server.requests) == 4  # a new run asks the model again


# --- new input while an approval is pending ----------------------------------------------------


def _plan_until_approval(
    rt: Runtime, server: OpenAIServer, thread: str
) -> tuple[ChatSession, dict[str, Any]]:
    session = chat_session(rt, thread, "priya.brooks@acme.example", model=model_for(server))
    events = list(session.send("Plan the next sprint with 20 points"))
    request = session.pending()
    assert request is not None, [e.kind for e in events]
    return session, request


def test_new_input_through_the_graph_api_while_an_approval_is_pending_is_queued(rt: Runtime) -> None:
    plan = call("planner", {"project": "Product Backlog", "capacity": 20}, "p1")
    with OpenAIServer(tool_calls(plan), text("Sprint 24 is created; Sprint 23 is on track.")) as server:
        session, request = _plan_until_approval(rt, server, "t-agent-server")
        cfg = {"configurable": {"thread_id": "t-agent-server"}}
        # What the Agent Server does with a new message on a thread waiting at an interrupt.
        session.graph.invoke(
            {"messages": [HumanMessage("Is Sprint 23 on track?")]}, cfg, context=session.context()
        )
        again = session.pending()
        assert again is not None and again["digest"] == request["digest"]  # the same request, re-raised
        assert "queued" in again["notice"] and "Is Sprint 23 on track?" in again["notice"]
        assert len(server.requests) == 1  # the model was not asked while the approval is pending
        events = list(session.send("approve"))
        assert [r["result"]["status"] for r in tool_events(events) if "result" in r] == ["applied"]
        last = server.requests[-1]
        assert last.status == 200 and last.last_user_text == "Is Sprint 23 on track?"
        assert "p1" in tool_replies(last)
        assert answers(events)[-1] == "Sprint 24 is created; Sprint 23 is on track."
        assert stored_problem(session) is None


def test_new_text_in_the_terminal_while_an_approval_is_pending_is_refused_clearly(rt: Runtime) -> None:
    plan = call("planner", {"project": "Product Backlog", "capacity": 20}, "p1")
    with OpenAIServer(tool_calls(plan)) as server:
        session, _ = _plan_until_approval(rt, server, "t-cli-pending")
        events = list(session.send("Is Sprint 23 on track?"))
        notice = next(e for e in events if e.kind == "notice").data["message"]
        assert "not sent" in notice and "Is Sprint 23 on track?" in notice
        assert session.pending() is not None and len(server.requests) == 1
        assert not any(isinstance(m, ToolMessage) for m in session.messages())
