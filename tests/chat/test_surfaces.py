"""The terminal loop (scripted input, no TTY), the HTTP routes (SSE) and the langgraph.json factory."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import chat_registry
from fake_model import call, scripted
from fastapi.testclient import TestClient
from langchain_core.messages import AIMessage
from rich.console import Console
from test_identity import SECRET, _secret_project

from service.api import create_api
from service.api.chat import include_chat
from service.chat_runtime import chat_session
from service.cli.chat import chat_loop
from service.runtime import Runtime, open_runtime
from service.settings import Settings, load_settings

REPO = Path(__file__).resolve().parents[2]


def test_terminal_loop_streams_and_approves_inline(rt: Runtime) -> None:
    model = scripted(
        AIMessage(
            content="", tool_calls=[call("planner", {"project": "Product Backlog", "capacity": 20}, "p")]
        ),
        AIMessage(content="Sprint 24 is created with 20 points."),
    )
    session = chat_session(rt, "t-term", "priya.brooks@acme.example", model=model)
    lines = iter(["plan the next sprint", "show", "approve", "/quit", "never read"])
    console = Console(record=True, width=160)
    turns = chat_loop(session, lambda prompt: next(lines), console)
    out = console.export_text()
    assert turns == 3
    assert "Approve Sprint 24 backlog" in out and "approve [all|N,M]" in out
    assert "planner: Approve Sprint 24 backlog — applied" in out
    assert "Sprint 24 is created with 20 points." in out  # streamed tokens
    assert "sprintpilot chat --thread t-term" in out


def _events(text: str) -> list[tuple[str, dict]]:
    out = []
    for block in text.strip().split("\n\n"):
        kind = block.split("\n")[0].removeprefix("event: ")
        data = json.loads(block.split("\n")[1].removeprefix("data: "))
        out.append((kind, data))
    return out


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    settings = load_settings(
        data_dir=settings.data_dir,
        asana_base_url=None,
        model="offline",
        api_token="tok",
        approvers=settings.approvers,
    )

    @contextmanager
    def factory() -> Iterator[Runtime]:
        with open_runtime(settings, registry=chat_registry()) as runtime:
            yield runtime

    with factory():  # migrates the database before the app starts
        pass
    app = create_api(settings)
    include_chat(app, factory)
    with TestClient(app) as c:
        c.headers["Authorization"] = "Bearer tok"
        yield c


def test_http_chat_streams_events_and_threads_show_history(client: TestClient) -> None:
    r = client.post(
        "/chat", json={"user": "priya.brooks@acme.example", "message": "plan Product Backlog capacity 20"}
    )
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    events = _events(r.text)
    thread = events[0][1]["thread_id"]
    assert [k for k, _ in events][-1] == "done"
    approval = next(d for k, d in events if k == "approval")["request"]

    shown = client.get(f"/threads/{thread}", params={"user": "priya.brooks@acme.example"}).json()
    assert shown["pending"]["proposal_id"] == approval["proposal_id"]
    assert shown["messages"][0]["content"] == "plan Product Backlog capacity 20"

    decisions = [{"type": "reject", "message": "no"}] * len(approval["action_requests"])
    r = client.post(
        "/chat", json={"user": "priya.brooks@acme.example", "thread_id": thread, "decisions": decisions}
    )
    tool = next(d for k, d in _events(r.text) if k == "tool")
    assert tool["result"]["status"] == "rejected"
    assert (
        client.get(f"/threads/{thread}", params={"user": "priya.brooks@acme.example"}).json()["pending"]
        is None
    )


def test_http_chat_needs_the_token_and_a_valid_body(client: TestClient) -> None:
    assert (
        client.post("/chat", json={"user": "a", "message": "help"}, headers={"Authorization": ""}).status_code
        == 401
    )
    assert client.post("/chat", json={"user": "a"}).status_code == 422
    # An empty message is refused before a thread is made for it (it was 200 and a new thread).
    empty = client.post("/chat", json={"user": "priya.brooks@acme.example", "message": "  "})
    assert empty.status_code == 422 and "the message is empty" in empty.text


def test_langgraph_json_names_a_factory_that_runs_without_a_context(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from langgraph.checkpoint.memory import InMemorySaver

    import service.chat_runtime as chat_runtime

    spec = json.loads((REPO / "langgraph.json").read_text())
    path, _, name = spec["graphs"]["sprintpilot"].partition(":")
    assert path == "./service/chat_runtime.py" and name == "make_graph"
    monkeypatch.setenv("SPRINTPILOT_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("SPRINTPILOT_CHAT_UI_USER", "priya.brooks@acme.example")
    monkeypatch.setenv("SPRINTPILOT_APPROVERS", "priya.brooks@acme.example")
    try:
        graph = chat_runtime.make_graph()
        served = graph.copy(update={"checkpointer": InMemorySaver()})  # what the Agent Server does
        cfg = {"configurable": {"thread_id": "ui-1"}}
        out = served.invoke(
            {"messages": [{"role": "user", "content": "plan Product Backlog capacity 20"}]}, cfg
        )
        request = out["__interrupt__"][0].value
        assert request["action_requests"] and request["review_configs"]
        # Agent Chat UI resumes with bare HITL decisions: digest and identity are filled in.
        from langgraph.types import Command

        done = served.invoke(Command(resume={"decisions": [{"type": "reject"}]}), cfg)
        assert (
            done["report"]["status"] == "rejected"
            and done["report"]["decided_by"] == "chatui:priya.brooks@acme.example"
        )
    finally:
        chat_runtime.close_process_runtime()


def test_the_graph_factory_does_no_io(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The Agent Server calls the factory on its event loop: building the graph must not open the
    database, the sandbox or Asana (issue 14: it used to open a whole runtime)."""
    import service.chat_runtime as chat_runtime

    # Settings that would fail on first contact: nothing may contact them while building.
    monkeypatch.setenv("SPRINTPILOT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SPRINTPILOT_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    monkeypatch.setenv("SPRINTPILOT_ASANA_BASE_URL", "http://127.0.0.1:1/api/1.0")
    monkeypatch.setenv("SPRINTPILOT_ASANA_TOKEN", "t")
    chat_runtime.close_process_runtime()
    graph = chat_runtime.make_graph()
    assert "supervisor" in graph.get_graph().nodes
    assert not chat_runtime._open  # no runtime was opened
    assert not list(tmp_path.iterdir())  # and nothing was written


def test_agent_chat_ui_is_shown_what_one_decision_applies(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 15 reproduction 5: the UI rendered the first of 70 action requests and its single
    decision was applied to all 70; a single edit was refused with an error it did not show."""
    from langgraph.checkpoint.memory import InMemorySaver
    from langgraph.types import Command

    import service.chat_runtime as chat_runtime

    monkeypatch.setenv("SPRINTPILOT_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("SPRINTPILOT_CHAT_UI_USER", "priya.brooks@acme.example")
    monkeypatch.setenv("SPRINTPILOT_APPROVERS", "priya.brooks@acme.example")
    try:
        served = chat_runtime.make_graph().copy(update={"checkpointer": InMemorySaver()})
        cfg = {"configurable": {"thread_id": "ui-2"}}
        out = served.invoke(
            {"messages": [{"role": "user", "content": "plan Product Backlog capacity 20"}]}, cfg
        )
        request = out["__interrupt__"][0].value
        (shown,) = request["action_requests"]  # exactly one thing to decide on...
        assert shown["name"] == "apply_proposal"
        assert request["review_configs"] == [
            {"action_name": "apply_proposal", "allowed_decisions": ["approve", "reject"]}
        ]
        listed = [line for line in shown["description"].splitlines() if line[:1].isdigit()]
        assert len(listed) == len(request["actions"]) > 1  # ...whose description lists every action

        edit = {"type": "edit", "edited_action": {"name": "apply_proposal", "args": {}}}
        again = served.invoke(Command(resume={"decisions": [edit]}), cfg)["__interrupt__"][0].value
        assert again["action_requests"][0]["description"].startswith("Your last answer was refused:")

        done = served.invoke(Command(resume={"decisions": [{"type": "approve"}]}), cfg)
        assert done["report"]["status"] in ("applied", "partially_applied"), done["report"]
        assert done["report"]["decided_by"] == "chatui:priya.brooks@acme.example"
    finally:
        chat_runtime.close_process_runtime()


def test_http_chat_users_are_asana_identities(client: TestClient) -> None:
    """Issue 18: a free-text user is refused before anything runs; a real one may chat."""
    refused = client.post("/chat", json={"user": "ravi", "message": "help"})
    assert refused.status_code == 403
    assert "not an Asana user" in refused.json()["error"]
    assert client.get("/threads/x", params={"user": "ravi"}).status_code == 403
    assert (
        client.post("/chat", json={"user": "ravi.rossi@acme.example", "message": "help"}).status_code == 200
    )


def test_http_chat_answers_an_invisible_project_like_a_missing_one(
    client: TestClient, settings: Settings
) -> None:
    """Issue 18: over the API too, Ravi gets "not found" for a project he cannot see in Asana."""
    with open_runtime(settings, registry=chat_registry()) as rt:
        _secret_project(rt)
        assert rt.sandbox is not None
        rt.sandbox.save()

    def answer(user: str, project: str) -> str:
        r = client.post("/chat", json={"user": user, "message": f"standup {project}"})
        return " ".join(
            str(d.get("content") or d.get("message") or "")
            for k, d in _events(r.text)
            if k in ("tool", "error", "message")
        )

    hidden = answer("ravi.rossi@acme.example", SECRET)
    missing = answer("ravi.rossi@acme.example", "Secret Roadmop")
    assert "Confidential" not in hidden and "no project named" in hidden
    assert hidden.replace(SECRET, "X") == missing.replace("Secret Roadmop", "X")
    assert "no project named" not in answer("priya.brooks@acme.example", SECRET)
