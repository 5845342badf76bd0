"""Full conversations with a scripted tool-calling model over the embedded sandbox (SQLite)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import RAVI, chat_registry
from fake_model import call, scripted
from langchain_core.messages import AIMessage, ToolMessage

from graphs.chat import ChatEvent
from graphs.chat.tools import specialist_tools
from service.chat_runtime import ChatConfig, chat_session
from service.runtime import Runtime
from service.settings import Settings

REPO = Path(__file__).resolve().parents[2]


def kinds(events: list[ChatEvent]) -> list[str]:
    return [e.kind for e in events]


def tool_results(events: list[ChatEvent]) -> list[dict]:
    return [e.data["result"] for e in events if e.kind == "tool" and "result" in e.data]


def test_every_registered_specialist_is_a_tool_with_its_args_schema(rt: Runtime) -> None:
    tools = {t.name: t for t in specialist_tools(rt.registry)}
    assert set(tools) == {"planner", "standup", "dependencies", "qa"}
    assert tools["planner"].args_model is tools["planner"].spec.args_model
    assert tools["planner"].args_model.__name__ == "PlannerArgs"
    assert "capacity" in tools["planner"].parameters()["properties"]
    assert tools["qa"].parameters()["required"] == ["task"]
    model = scripted(AIMessage(content="hi"))
    list(chat_session(rt, "t-schema", "priya.brooks@acme.example", model=model).send("hello"))
    # Besides the specialists, the read-only project search (graphs/chat/projects.py).
    assert {t["function"]["name"] for t in model.bound_tools} == {*tools, "list_projects"}


def test_delegates_to_the_right_specialist_and_cites_its_evidence(rt: Runtime) -> None:
    model = scripted(
        AIMessage(content="", tool_calls=[call("standup", {"project": "Sprint 23"}, "c1")]),
        AIMessage(content="Sprint 23 is at risk: 8 of 45 points remain."),
    )
    session = chat_session(rt, "t-deleg", "priya.brooks@acme.example", model=model)
    events = list(session.send("How is Sprint 23 going?"))
    results = tool_results(events)
    assert [r["agent"] for r in results] == ["standup"]
    assert results[0]["evidence"]  # numbers behind the answer
    # The model saw the tool result with the evidence, Asana text fenced as data.
    tool_msg = next(m for m in model.seen[1] if isinstance(m, ToolMessage))
    assert "<asana_data" in tool_msg.content and "Evidence" in tool_msg.content
    assert tool_msg.tool_call_id == "c1"
    answer = [e for e in events if e.kind == "message"][-1]
    assert "8 of 45" in answer.data["content"]
    assert any(e.kind == "token" for e in events)  # the fake streams: tokens reach the surface
    assert session.pending() is None


def test_multi_specialist_question_combines_both_results(rt: Runtime) -> None:
    model = scripted(
        AIMessage(
            content="",
            tool_calls=[
                call("standup", {"project": "Sprint 23"}, "a"),
                call("dependencies", {"projects": ["Product Backlog"]}, "b"),
            ],
        ),
        AIMessage(content="Combined: stand-up and dependency risks."),
    )
    session = chat_session(rt, "t-multi", "priya.brooks@acme.example", model=model)
    events = list(session.send("Are we on track, and what blocks us?"))
    while session.pending() is not None:  # the dependency manager may propose due-date shifts
        events += list(session.send("reject not now"))
    agents = {r["agent"] for r in tool_results(events)}
    assert agents == {"standup", "dependencies"}
    last_seen = model.seen[-1]
    answered = {m.tool_call_id for m in last_seen if isinstance(m, ToolMessage)}
    assert answered == {"a", "b"}
    assert kinds(events)[-1] == "message"


def _plan_until_approval(
    rt: Runtime, thread: str, user: str = "priya.brooks@acme.example", **cfg: object
) -> tuple:
    model = scripted(
        AIMessage(
            content="", tool_calls=[call("planner", {"project": "Product Backlog", "capacity": 20}, "p1")]
        ),
        AIMessage(content="Done: see the outcome above."),
    )
    session = chat_session(rt, thread, user, model=model, config=ChatConfig(**cfg))  # type: ignore[arg-type]
    events = list(session.send("Plan the next sprint with 20 points"))
    approval = [e for e in events if e.kind == "approval"]
    assert approval, kinds(events)
    return session, approval[-1].data["request"], model


def _sprint_projects(rt: Runtime) -> set[str]:
    return {p.name for p in rt.asana.projects(rt.allowed_workspaces()[0]) if p.name}


def test_approval_in_chat_results_in_asana_writes(rt: Runtime) -> None:
    session, request, model = _plan_until_approval(rt, "t-approve")
    assert request["action_requests"] and request["review_configs"]  # HITL-shaped payload
    assert "Sprint 24" not in _sprint_projects(rt)  # nothing needing approval written yet
    events = list(session.send("approve"))
    result = tool_results(events)[-1]
    assert result["status"] == "applied"
    assert "Sprint 24" in _sprint_projects(rt)
    record = rt.repo.get_proposal(request["proposal_id"])
    assert record is not None and record.status.value == "applied"
    assert any(d.decided_by == "chat:priya.brooks@acme.example" for d in record.decisions)
    # Control came back to the supervisor, which answered after seeing the outcome.
    assert "applied" in next(m for m in model.seen[-1] if isinstance(m, ToolMessage)).content
    assert [e for e in events if e.kind == "message"][-1].data["content"].startswith("Done")


def test_edit_in_chat_is_revalidated_and_applied(rt: Runtime) -> None:
    session, request, _ = _plan_until_approval(rt, "t-edit")
    n = next(i for i, r in enumerate(request["actions"], 1) if r["name"] == "create_project")
    events = list(session.send(f'edit {n} {{"params": {{"name": "Sprint 24 (edited)"}}}}'))
    assert tool_results(events)[-1]["status"] in ("applied", "partially_applied")
    assert "Sprint 24 (edited)" in _sprint_projects(rt)
    rows = rt.audit.rows(limit=1000, thread_id="t-edit")
    assert any(r.event == "decision.edit" for r in rows)


def test_rejection_in_chat_writes_nothing_needing_approval(rt: Runtime) -> None:
    session, request, _ = _plan_until_approval(rt, "t-reject")
    events = list(session.send("reject not this sprint"))
    assert tool_results(events)[-1]["status"] == "rejected"
    assert "Sprint 24" not in _sprint_projects(rt)
    record = rt.repo.get_proposal(request["proposal_id"])
    assert record is not None and record.status.value == "rejected"


def test_non_approver_cannot_approve_and_is_audited(rt: Runtime) -> None:
    # Approvers are Asana identities (the fixture's SPRINTPILOT_APPROVERS names Priya's email).
    session, request, _ = _plan_until_approval(rt, "t-rights", user=RAVI)
    events = list(session.send("approve"))
    assert kinds(events) == ["error"] and "You may not decide on this proposal" in events[0].data["message"]
    assert session.pending() is not None  # still waiting
    # A reject is refused in the same words (it said "not allowed to approve").
    events = list(session.send("reject all too big"))
    assert kinds(events) == ["error"] and "may not approve or reject" in events[0].data["message"]
    assert "allowed to approve" not in events[0].data["message"]
    rows = rt.audit.rows(limit=1000, thread_id="t-rights")
    assert any(r.event == "decision.unauthorized" and r.actor == f"human:chat:{RAVI}" for r in rows)
    # Bypassing the session (e.g. a raw resume) is refused by the graph's gate as well.
    forged = list(session.decide([{"type": "approve"}]))
    assert kinds(forged) == ["error"]
    # Priya, signing in with her gid, is the same Asana user as the email on the list.
    priya = chat_session(rt, "t-rights", "1200000000000002")
    assert tool_results(list(priya.send("approve")))[-1]["status"] == "applied"


def test_out_of_scope_project_is_refused_before_the_specialist_runs(settings: Settings) -> None:
    from service.runtime import open_runtime

    with open_runtime(
        settings.model_copy(update={"allowed_projects": ["1"]}), registry=chat_registry()
    ) as rt:
        model = scripted(
            AIMessage(content="", tool_calls=[call("standup", {"project": "Sprint 23"}, "x")]),
            AIMessage(content="I cannot reach that project."),
        )
        events = list(
            chat_session(rt, "t-scope", "priya.brooks@acme.example", model=model).send(
                "standup for Sprint 23"
            )
        )
        tool = next(e for e in events if e.kind == "tool")
        assert "outside the projects this chat may use" in tool.data["content"]
        assert rt.repo.list_proposals() == []


def test_conversation_resumes_from_a_new_process(rt: Runtime, settings: Settings) -> None:
    session, request, _ = _plan_until_approval(rt, "t-resume")
    script = f"""
import json, sys
sys.path.insert(0, {str(Path(__file__).parent)!r})
from fake_model import scripted
from langchain_core.messages import AIMessage
from conftest import chat_registry
from service.chat_runtime import chat_session
from service.runtime import open_runtime
from service.settings import load_settings
settings = load_settings(data_dir={str(settings.data_dir)!r}, asana_base_url=None, model="offline",
                         approvers=["priya.brooks@acme.example"])
with open_runtime(settings, registry=chat_registry()) as rt:
    model = scripted(AIMessage(content="Applied in the new process."))
    s = chat_session(rt, "t-resume", "priya.brooks@acme.example", model=model)
    before = len(s.history())
    pending = s.pending()
    events = [e.as_dict() for e in s.send("approve")]
    print(json.dumps({{"before": before, "pending": pending["proposal_id"], "events": events,
                      "history": s.history()}}, default=str))
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPRINTPILOT_")}
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True, timeout=240
    )
    assert out.returncode == 0, out.stderr[-3000:]
    data = json.loads(out.stdout.strip().splitlines()[-1])
    assert data["pending"] == request["proposal_id"]
    assert data["before"] >= 2  # the first process's messages are in the checkpoint
    statuses = [e["result"]["status"] for e in data["events"] if e["event"] == "tool" and "result" in e]
    assert statuses == ["applied"]
    assert data["history"][0]["content"] == "Plan the next sprint with 20 points"
    assert data["history"][-1]["content"] == "Applied in the new process."
