"""The whole supervisor graph against the sandbox Asana over HTTP, through the real typed client."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from langgraph.checkpoint.memory import InMemorySaver

from agents.proposal import Action, ActionKind, Proposal, Scope
from graphs.context import RunContext
from graphs.registry import Specialist, SpecialistRegistry
from graphs.runner import recover_run, resume_run, start_run
from graphs.supervisor import build_supervisor_graph
from sandbox.server import SandboxServer
from sandbox.store import Store
from tests.graphs.conftest import NOW, FakeArgs
from tests.graphs.fakes import MemoryAudit, MemoryJournal, MemoryRepo
from tools.asana.client import AsanaClient
from tools.llm.engine import LanguageEngine

pytestmark = pytest.mark.integration
TOKEN = "tok-sprintpilot"


@pytest.fixture
def sandbox() -> Iterator[tuple[SandboxServer, dict[str, str]]]:
    s = Store()
    # A plain workspace: an organization would need a team for the sprint project (POST /projects).
    ws = s.add_workspace("Acme", is_organization=False).gid
    bot = s.add_user("sprintpilot", "bot@acme.test", workspaces=[ws]).gid
    approver = s.add_user("Ana PO", "ana@acme.test", workspaces=[ws]).gid
    s.add_token(TOKEN, bot)
    project = s.add_project(ws, "Team backlog").gid
    backlog = s.add_section(project, "Backlog").gid
    score = s.add_custom_field(ws, "AI Priority Score", "number", precision=0).gid
    s.add_field_setting(project, score)
    t1 = s.add_task(ws, "Login page", due_on="2026-12-01", memberships=[(project, backlog)]).gid
    t2 = s.add_task(ws, "Password reset", memberships=[(project, backlog)]).gid
    with SandboxServer(s, TOKEN) as server:
        yield server, {"ws": ws, "project": project, "t1": t1, "t2": t2, "approver": approver}


def http_context(
    client: AsanaClient, registry: SpecialistRegistry, g: dict[str, str], journal: MemoryJournal
) -> RunContext:
    """A run context over the sandbox's HTTP API for the test workspace `g`."""
    return RunContext(
        asana=client,
        writes=client,
        language=LanguageEngine(),
        journal=journal,
        repo=MemoryRepo(),
        audit=journal.audit,
        registry=registry,
        allowed_workspace_gids=frozenset({g["ws"]}),
        allowed_project_gids=frozenset({g["project"]}),
        approver_gid=g["approver"],
        now=lambda: NOW,
    )


def _stats(server: SandboxServer) -> dict[str, Any]:
    reply = httpx.get(f"{server.root_url}/__sandbox/stats", headers={"Authorization": f"Bearer {TOKEN}"})
    reply.raise_for_status()
    data = reply.json()
    return data.get("data", data)


def test_full_graph_over_http(sandbox: tuple[SandboxServer, dict[str, str]]) -> None:
    server, g = sandbox

    def plan(args: dict[str, Any], ctx: RunContext) -> Proposal:
        t1 = ctx.asana.task(g["t1"])  # the specialist reads what it proposes to change
        return Proposal(
            agent="http_planner",
            scope=Scope(workspace_gid=g["ws"], project_gids=[g["project"]]),
            title="Sprint 24 plan",
            summary_markdown="Two tasks, 8 points.",
            actions=[
                Action(kind=ActionKind.CREATE_PROJECT, params={"name": "Sprint 24"}, ref="sprint"),
                Action(
                    kind=ActionKind.CREATE_SECTION, target="ref:sprint", params={"name": "To Do"}, ref="todo"
                ),
                Action(
                    kind=ActionKind.ADD_TO_PROJECT,
                    target=g["t1"],
                    params={"project": "ref:sprint", "section": "ref:todo"},
                ),
                Action(
                    kind=ActionKind.UPDATE_TASK,
                    target=g["t1"],
                    params={"due_on": "2026-12-10"},
                    before={"due_on": str(t1.due_on)},
                ),
                Action(
                    kind=ActionKind.SET_CUSTOM_FIELD,
                    target=g["t2"],
                    params={"field": "AI Priority Score", "value": 42},
                ),
                Action(
                    kind=ActionKind.POST_COMMENT, target=g["t1"], params={"text": "Planned into Sprint 24"}
                ),
            ],
        )

    registry = SpecialistRegistry([Specialist("http_planner", "test planner", plan, FakeArgs)])
    graph = build_supervisor_graph(registry).compile(checkpointer=InMemorySaver())
    audit = MemoryAudit()
    journal = MemoryJournal(audit)
    thread_id = uuid.uuid4().hex
    with AsanaClient(server.base_url, TOKEN) as client:
        ctx = http_context(client, registry, g, journal)
        out = start_run(graph, ctx, thread_id, {"agent": "http_planner"})

        assert out.status == "awaiting_approval"
        stats = _stats(server)
        assert stats["mutating"] == {
            "POST /tasks": 1,  # the approval task
            "POST /tasks/{task_gid}/stories": 2,  # agent comment + approval comment
            "PUT /tasks/{task_gid}": 1,  # the AI Priority Score field
        }
        store = server.store
        approval = store.tasks[out.interrupt["approval_task_gid"]]  # type: ignore[index]
        assert approval.resource_subtype == "approval" and approval.approval_status == "pending"
        assert client.task(g["t2"]).field("AI Priority Score") == 42
        assert str(client.task(g["t1"]).due_on) == "2026-12-01"

        done = resume_run(graph, ctx, thread_id, [{"type": "approve"}], "ana")
        assert done.report is not None and done.report["status"] == "applied", done.report
        created = {c["ref"]: c["gid"] for c in done.report["created"]}
        task = client.task(g["t1"])
        assert str(task.due_on) == "2026-12-10"
        assert task.section_in(created["sprint"]).gid == created["todo"]  # type: ignore[union-attr]
        comments = [s.text or "" for s in client.stories(g["t1"]) if s.is_comment]
        assert any(c.startswith("[AI Proposal] Planned into Sprint 24") and "⟨sp:" in c for c in comments)

        writes = _stats(server)["mutating_total"]
        recover_run(graph, ctx, thread_id)
        assert _stats(server)["mutating_total"] == writes
        assert _stats(server)["mutating"]["POST /projects"] == 1
