"""The chat graph under the real `langgraph dev` (Agent Server, in-memory runtime), driven with the
LangGraph SDK exactly as LangChain's Agent Chat UI drives it.

`langgraph dev` runs on a free port without `--allow-blocking` (its blockbuster raises on any
blocking call on the event loop), with a private data dir (embedded SQLite and sandbox) and the
model pointed at the OpenAI-compatible test server (real HTTP). The UI's contract, checked against
langchain-ai/agent-chat-ui (`src/lib/agent-inbox-interrupt.ts`, `hooks/use-interrupted-actions.tsx`):
an interrupt is rendered when its value has non-empty `action_requests` (`name`, `args` object)
and `review_configs` (`action_name`, `allowed_decisions`); the answer is
`submit({}, {command: {resume: {decisions: [{type: "approve"}]}}})`, one decision per request.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from service.runtime import open_runtime
from service.settings import load_settings
from tests.llm.openai_server import OpenAIServer, Received, Step, call, schema_answer, text, tool_calls

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(120)]

REPO = Path(__file__).resolve().parents[2]
LANGGRAPH = Path(sys.executable).with_name("langgraph")
ASK = "Please plan the next sprint from the Product Backlog, with a capacity of 20 points."
DONE = "The plan was approved and written to Asana."


def _config_in(folder: Path) -> Path:
    """The repo's langgraph.json with its paths made absolute, so the server can run in `folder`
    (its in-memory runtime keeps its files in the working directory: .langgraph_api/)."""
    spec = json.loads((REPO / "langgraph.json").read_text())
    spec["dependencies"] = [str((REPO / dep).resolve()) for dep in spec.get("dependencies", [])]
    for graph_id, target in spec["graphs"].items():
        path, _, name = target.partition(":")
        spec["graphs"][graph_id] = f"{(REPO / path).resolve()}:{name}"
    config = folder / "langgraph.json"
    config.write_text(json.dumps(spec))
    return config


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _model(received: Received) -> Step:
    """The supervisor asks the planner, then answers; the planner's writer gets a fitting answer."""
    if received.structured:
        return schema_answer(received)
    last = (received.messages or [{}])[-1]
    if last.get("role") == "tool":
        return text(DONE)
    return tool_calls(call("planner", {"project": "Product Backlog", "capacity": 20}, "call_plan_1"))


def _server_env(data_dir: Path, model_url: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SPRINTPILOT_", "LANGSMITH_", "LANGCHAIN_", "OTEL_"))
    }
    env.update(
        SPRINTPILOT_DATA_DIR=str(data_dir),
        SPRINTPILOT_CHAT_UI_USER="priya.brooks@acme.example",
        SPRINTPILOT_APPROVERS="priya.brooks@acme.example",
        SPRINTPILOT_MODEL="openai-compatible:test-model",
        SPRINTPILOT_MODEL_BASE_URL=model_url,
        SPRINTPILOT_MODEL_TIMEOUT_S="20",
        LANGSMITH_TRACING="false",
        LANGGRAPH_NO_VERSION_CHECK="true",
        PYTHONUNBUFFERED="1",
    )
    return env


def _wait_ready(url: str, proc: subprocess.Popen[bytes], log: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"langgraph dev exited ({proc.returncode}):\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/ok", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    pytest.fail(f"langgraph dev did not answer within {seconds:g} s:\n{log.read_text()[-3000:]}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)  # a graceful stop: the runtime closes, the sandbox is saved
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def _is_agent_chat_ui_interrupt(value: Any) -> bool:
    """agent-chat-ui's `isAgentInboxInterruptSchema`, for one interrupt's value."""
    if not isinstance(value, dict):
        return False
    requests, configs = value.get("action_requests"), value.get("review_configs")
    if not isinstance(requests, list) or not requests or not isinstance(configs, list) or not configs:
        return False
    return all(
        isinstance(r, dict) and isinstance(r.get("name"), str) and isinstance(r.get("args"), dict)
        for r in requests
    ) and all(
        isinstance(c, dict)
        and isinstance(c.get("action_name"), str)
        and isinstance(c.get("allowed_decisions"), list)
        for c in configs
    )


async def _chat_like_agent_chat_ui(url: str) -> dict[str, Any]:
    from langgraph_sdk import get_client

    async with get_client(url=url) as client:
        (assistant,) = await client.assistants.search(graph_id="sprintpilot")
        drawn = await client.assistants.get_graph(assistant["assistant_id"])  # was a 500 (issue 17)
        assert "supervisor" in {n["id"] for n in drawn["nodes"]}
        thread = await client.threads.create()
        tid = thread["thread_id"]

        # The UI's first message: a run with the default (empty) context, streamed.
        parts = [
            p
            async for p in client.runs.stream(
                tid,
                assistant["assistant_id"],
                input={"messages": [{"type": "human", "content": ASK}]},
                context={},
                stream_mode=["values", "messages-tuple"],
            )
        ]
        assert not [p for p in parts if p.event == "error"], [p.data for p in parts if p.event == "error"]
        state = await client.threads.get_state(tid)
        (pending,) = state["interrupts"]
        request = pending["value"]
        assert _is_agent_chat_ui_interrupt(request), request
        assert len(request["action_requests"]) == len(request["review_configs"]) == 1
        assert "approve" in request["review_configs"][0]["allowed_decisions"]
        assert (await client.threads.get(tid))["status"] == "interrupted"

        # "Approve", as the UI sends it: no user, no digest; one decision for the one request shown.
        parts = [
            p
            async for p in client.runs.stream(
                tid,
                assistant["assistant_id"],
                input={},
                command={"resume": {"decisions": [{"type": "approve"}]}},
                stream_mode=["values", "messages-tuple"],
            )
        ]
        assert not [p for p in parts if p.event == "error"], [p.data for p in parts if p.event == "error"]
        values = [p.data for p in parts if p.event == "values"][-1]
        assert (await client.threads.get(tid))["status"] == "idle"
        return {"thread_id": tid, "values": values, "request": request}


def test_langgraph_dev_serves_the_chat_to_agent_chat_ui_without_allow_blocking(tmp_path: Path) -> None:
    if not LANGGRAPH.exists():
        message = "langgraph-cli[inmem] is not installed (pip install -e '.[dev]')"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    data_dir = tmp_path / "data"
    log = tmp_path / "langgraph-dev.log"
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    with OpenAIServer() as model, log.open("wb") as out:
        model.default = _model
        proc = subprocess.Popen(
            [str(LANGGRAPH), "dev", "--port", str(port), "--host", "127.0.0.1", "--no-browser", "--no-reload"]
            + ["--config", str(_config_in(tmp_path))],
            cwd=tmp_path,
            env=_server_env(data_dir, model.base_url),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_ready(url, proc, log)
            outcome = asyncio.run(_chat_like_agent_chat_ui(url))
        except Exception as err:  # the server's own log says why (e.g. a BlockingError)
            _stop(proc)
            raise AssertionError(
                f"{err}\n--- langgraph dev log ---\n{log.read_text(errors='replace')[-4000:]}"
            ) from err
        finally:
            _stop(proc)
        requests = list(model.requests)
    served = log.read_text(errors="replace")
    assert "BlockingError" not in served and "Blocking call" not in served, served[-3000:]

    report = outcome["values"]["report"]
    assert report["status"] == "applied", report
    assert report["decided_by"] == "chatui:priya.brooks@acme.example"
    assert outcome["values"]["messages"][-1]["content"] == DONE
    supervisor = [r for r in requests if "tools" in r.body]
    assert len(supervisor) == 2 and all(r.body.get("stream") for r in supervisor)
    assert all(r.body.get("stream_options") == {"include_usage": True} for r in supervisor)

    # What was written, read back through the app's own Asana client over the saved sandbox.
    settings = load_settings(data_dir=data_dir, asana_base_url=None, model="offline")
    with open_runtime(settings) as rt:
        proposal = rt.repo.get_proposal(report["proposal_id"])
        assert proposal is not None and proposal.status.value == "applied"
        planned = {str(a.target) for a in proposal.proposal.actions if a.kind.value == "add_to_project"}
        ws = rt.allowed_workspaces()[0]
        sprint = rt.asana.find_project(ws, "Sprint 24")
        assert {t.gid for t in rt.asana.project_tasks(sprint.gid)} == planned and planned
        approval = rt.asana.task(report["approval_task_gid"])
        assert approval.name.startswith("Approve Sprint 24")

        # Every model call of the run is stored with it: the supervisor's (streamed, with the
        # server's usage counts) and the planner's writer.
        assert rt.model_calls is not None
        calls = rt.model_calls.for_thread(outcome["thread_id"])
        chat = [c for c in calls if c.agent == "chat"]
        writer = [c for c in calls if c.agent == "planner"]
        assert len(chat) == 2 and all(c.streamed and c.outcome == "ok" and c.tokens_in > 0 for c in chat)
        assert writer and writer[0].prompt == "planner_summary" and writer[0].tokens_out > 0
        assert {c.model for c in calls} == {"test-model"}
