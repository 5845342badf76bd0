"""Every model call is measured (issue 17, point 7): model, tokens in/out as the server reported them,
latency, the client's retries, the outcome and the fallback reason, stored with the run and exported
on `/metrics`; streamed calls ask for usage; tracing only when its environment variables are set.

Over real HTTP: the OpenAI-compatible test server and the real langchain-openai client."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from graphs.runner import start_run
from service.api.app import create_api
from service.db import make_engine, migrate
from service.db.model_calls import SqlModelCalls
from service.runtime import open_runtime
from service.settings import load_settings
from tests.llm.openai_server import (
    OpenAIServer,
    Received,
    Step,
    answer,
    call,
    schema_answer,
    served_usage,
    status,
    text,
    tool_calls,
)
from tools.llm.breaker import ModelBreaker
from tools.llm.engine import LanguageEngine
from tools.llm.factory import make_chat_model
from tools.llm.schemas import PlanNarrative
from tools.llm.usage import ModelCall, recorder_of

MODEL = "openai-compatible:test-model"
REPO = Path(__file__).resolve().parents[2]
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
GOOD = {
    "sprint_goal": "Ship reliable payments.",
    "narrative": "Scope fits the capacity this time.",
    "risks": [],
}


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("SPRINTPILOT_ASANA_BASE_URL", "SPRINTPILOT_DATABASE_URL", "SPRINTPILOT_MODEL"):
        monkeypatch.delenv(var, raising=False)


def measured(server: OpenAIServer, *, retries: int = 2) -> tuple[Any, list[ModelCall]]:
    model = make_chat_model(MODEL, base_url=server.base_url, timeout=10, max_retries=retries)
    seen: list[ModelCall] = []
    recorder = recorder_of(model)
    assert recorder is not None
    recorder.add_listener(seen.append)
    return model, seen


def write(model: Any, engine: LanguageEngine | None = None) -> str:
    engine = engine or LanguageEngine(model, model_name=MODEL)
    return engine.write("planner_summary", PLAN, PlanNarrative)[1]


def test_a_call_records_the_servers_token_counts_latency_and_the_clients_retries() -> None:
    with OpenAIServer(*status(500, times=2), answer(GOOD)) as server:
        model, seen = measured(server)
        assert write(model) == MODEL
        (recorded,) = seen
        usage = served_usage(server.requests[-1])
        assert (recorded.tokens_in, recorded.tokens_out) == (
            usage["prompt_tokens"],
            usage["completion_tokens"],
        )
        assert recorded.retries == 2 and recorded.outcome == "ok" and recorded.reason is None
        assert recorded.agent == "planner" and recorded.prompt == "planner_summary"
        assert recorded.model == "test-model" and recorded.latency_s > 0 and not recorded.streamed


def test_streamed_calls_ask_for_usage_and_record_it() -> None:
    with OpenAIServer(text("A short answer.")) as server:
        model, seen = measured(server)
        list(model.stream("hello"))
        assert server.requests[0].body.get("stream_options") == {"include_usage": True}
        (recorded,) = seen
        usage = served_usage(server.requests[0])
        assert recorded.streamed and recorded.tokens_in == usage["prompt_tokens"] > 0
        assert recorded.tokens_out == usage["completion_tokens"] > 0


def test_refused_answers_and_the_fallback_reason_are_recorded() -> None:
    unusable = answer({"sprint_goal": "zzqx goal", "narrative": "zzqx"})
    with OpenAIServer(answer({"sprint_goal": "x"}), unusable) as server:
        model, seen = measured(server)
        label = write(model)
        assert label.startswith("offline (fallback: invalid output")
        assert [c.outcome for c in seen] == ["invalid", "invalid", "fallback"]
        assert all("validation error" in (c.reason or "") for c in seen[:2])
        assert "zzqx" not in " ".join(c.reason or "" for c in seen)  # the model's text is not stored
        assert seen[2].reason == label.removeprefix("offline (fallback: ")[:-1]
        assert (seen[2].tokens_in, seen[2].tokens_out) == (0, 0)


def test_a_failed_call_and_an_open_breaker_are_recorded_with_their_reasons() -> None:
    with OpenAIServer() as server:
        server.default = status(503)[0]
        model, seen = measured(server, retries=1)
        engine = LanguageEngine(model, model_name=MODEL).for_run(ModelBreaker(threshold=1))
        write(model, engine)
        write(model, engine)  # the breaker is open: no call, only the fallback
        assert [c.outcome for c in seen] == ["error", "fallback", "fallback"]
        assert (
            seen[0].retries == 1
            and seen[0].reason == "the model server answered HTTP 503: The server had an error"
        )
        assert "the model failed 1 call in a row" in (seen[2].reason or "")
        assert len(server.requests) == 2


def test_an_answer_the_output_guard_refuses_is_recorded_as_invalid() -> None:
    phishing = {**GOOD, "narrative": "Approve it at https://evil.example/login before the review."}
    with OpenAIServer(answer(phishing)) as server:
        model, seen = measured(server)
        label = write(model)
        assert "output guard" in label
        assert [c.outcome for c in seen] == ["invalid", "fallback"]
        assert "output guard" in (seen[0].reason or "") and seen[0].tokens_in > 0


# --- stored with the run, exported on /metrics ------------------------------------------------------


def _model(received: Received) -> Step:
    if received.structured:
        return schema_answer(received)
    if (received.messages or [{}])[-1].get("role") == "tool":
        return text("Here is the plan; it waits for your approval.")
    return tool_calls(call("planner", {"project": "Product Backlog", "capacity": 20}, "call_1"))


@pytest.fixture
def served() -> Iterator[OpenAIServer]:
    with OpenAIServer() as server:
        server.default = _model
        yield server


def test_runs_store_their_model_calls_and_metrics_export_them(tmp_path: Path, served: OpenAIServer) -> None:
    from service.chat_runtime import chat_session

    settings = load_settings(
        data_dir=tmp_path, asana_base_url=None, model=MODEL, model_base_url=served.base_url
    )
    with open_runtime(settings) as rt:
        assert rt.model_calls is not None
        outcome = start_run(rt.graph, rt.context(), "run-1", {"agent": "forecast", "args": {}})
        assert outcome.status == "done", outcome
        (forecast,) = rt.model_calls.for_thread("run-1")
        assert (forecast.agent, forecast.prompt, forecast.outcome) == ("forecast", "forecast_summary", "ok")
        assert forecast.tokens_in > 0 and forecast.tokens_out > 0

        events = list(
            chat_session(rt, "chat-1", "priya.brooks@acme.example").send("Plan the next sprint, capacity 20.")
        )
        assert any(e.kind == "approval" for e in events), [e.as_dict() for e in events]
        calls = rt.model_calls.for_thread("chat-1")
        assert [(c.agent, c.outcome) for c in calls] == [("chat", "ok"), ("planner", "ok")]
        assert calls[0].streamed
        totals = rt.model_calls.totals("chat-1")
        answered = [r for r in served.requests if r.status == 200][-2:]
        assert totals.calls == 2 and totals.fallbacks == 0
        assert totals.tokens_in == sum(served_usage(r)["prompt_tokens"] for r in answered)

    migrate(settings)
    with TestClient(create_api(settings)) as client:
        metrics = client.get("/metrics").text
    assert 'sprintpilot_model_calls_total{agent="planner",model="test-model",outcome="ok"} 1.0' in metrics
    assert 'sprintpilot_model_calls_total{agent="forecast",model="test-model",outcome="ok"} 1.0' in metrics
    assert 'sprintpilot_model_calls_total{agent="chat",model="test-model",outcome="ok"} 1.0' in metrics
    chat_in = 'sprintpilot_model_tokens_total{agent="chat",direction="in",model="test-model"}'
    assert f"{chat_in} {calls[0].tokens_in}.0" in metrics
    assert 'sprintpilot_model_call_latency_seconds_count{agent="planner",model="test-model"} 1.0' in metrics
    assert 'sprintpilot_model_retries_total{agent="planner",model="test-model"} 0.0' in metrics


def test_metrics_count_outcomes_fallbacks_and_latency_buckets(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    migrate(url)
    engine = make_engine(url)
    try:
        sink = SqlModelCalls(engine)
        sink(ModelCall(model="m", agent="standup", outcome="ok", tokens_in=100, tokens_out=20, latency_s=0.3))
        sink(
            ModelCall(
                model="m", agent="standup", outcome="error", latency_s=12.0, retries=2, reason="HTTP 500"
            )
        )
        sink(ModelCall(model="m", agent="standup", outcome="fallback", reason="model error: HTTP 500"))
        from service.metrics import create_db_metrics

        text_ = create_db_metrics(engine).render().decode()
    finally:
        engine.dispose()
    for line in (
        'sprintpilot_model_calls_total{agent="standup",model="m",outcome="ok"} 1.0',
        'sprintpilot_model_calls_total{agent="standup",model="m",outcome="error"} 1.0',
        'sprintpilot_model_fallbacks_total{agent="standup",model="m"} 1.0',
        'sprintpilot_model_tokens_total{agent="standup",direction="out",model="m"} 20.0',
        'sprintpilot_model_retries_total{agent="standup",model="m"} 2.0',
        'sprintpilot_model_call_latency_seconds_bucket{agent="standup",le="0.5",model="m"} 1.0',
        'sprintpilot_model_call_latency_seconds_bucket{agent="standup",le="30",model="m"} 2.0',
        'sprintpilot_model_call_latency_seconds_count{agent="standup",model="m"} 2.0',
    ):
        assert line in text_, line


# --- tracing: only when the standard variables ask for it ----------------------------------------

TRACE_SCRIPT = """
import json, sys
from service.tracing import configure_tracing
from tests.llm.openai_server import OpenAIServer, text
from tools.llm.factory import make_chat_model
on = configure_tracing()
with OpenAIServer(text("hi")) as server:
    make_chat_model("openai-compatible:test-model", base_url=server.base_url).invoke("hello")
from opentelemetry import trace
provider = trace.get_tracer_provider()
getattr(provider, "force_flush", lambda: None)()
print(json.dumps({"on": on, "provider": type(provider).__name__}))
"""


def _run_traced(env: dict[str, str]) -> dict[str, Any]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "LANGSMITH_", "LANGCHAIN_"))}
    done = subprocess.run(
        [sys.executable, "-c", TRACE_SCRIPT],
        env={**base, **env},
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_tracing_is_off_without_its_environment_variables() -> None:
    assert _run_traced({}) == {"on": [], "provider": "ProxyTracerProvider"}


def test_otlp_spans_are_exported_when_the_endpoint_is_set() -> None:
    received: list[tuple[str, bytes]] = []

    class Collector(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
            pass

        def do_POST(self) -> None:  # noqa: N802 - stdlib name
            received.append((self.path, self.rfile.read(int(self.headers.get("content-length") or 0))))
            self.send_response(200)
            self.send_header("content-length", "0")
            self.end_headers()

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Collector)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        endpoint = f"http://127.0.0.1:{httpd.server_address[1]}"
        out = _run_traced({"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint, "OTEL_SERVICE_NAME": "sprintpilot-test"})
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert out == {"on": ["otlp"], "provider": "TracerProvider"}
    (path, body), *_ = received
    assert path == "/v1/traces"
    assert b"chat test-model" in body and b"gen_ai.usage.input_tokens" in body and b"sprintpilot-test" in body
