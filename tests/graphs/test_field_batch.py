"""Several AI fields of one task are one PUT, and still exactly once (issue 23).

The executor writes a run of set_custom_field actions on one task together: one read for their
stale checks, one PUT for all values, each action ledgered and audited on its own. When the PUT's
answer is lost, the next attempt probes each action on its own and writes nothing twice; a value
that cannot be encoded fails alone. Counted at the sandbox, over HTTP.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver

from agents.proposal import Action, ActionKind, Proposal, Scope
from graphs.context import RunContext
from graphs.ports import LedgerStatus
from graphs.registry import Specialist, SpecialistRegistry
from graphs.runner import recover_run, start_run
from graphs.supervisor import build_supervisor_graph
from sandbox.server import SandboxServer
from sandbox.store import Store
from tests.graphs.conftest import FakeArgs
from tests.graphs.fakes import MemoryAudit, MemoryJournal
from tests.graphs.test_ambiguous_writes import LossyProxy
from tests.graphs.test_sandbox_http import TOKEN, _stats, http_context
from tools.asana.client import AsanaClient
from tools.asana.errors import ServerError
from tools.asana.retry import RetryPolicy

pytestmark = pytest.mark.integration


@pytest.fixture
def world() -> Iterator[tuple[SandboxServer, dict[str, str]]]:
    s = Store()
    ws = s.add_workspace("Acme", is_organization=False).gid
    bot = s.add_user("sprintpilot", "bot@acme.test", workspaces=[ws]).gid
    approver = s.add_user("Ana PO", "ana@acme.test", workspaces=[ws]).gid
    s.add_token(TOKEN, bot)
    project = s.add_project(ws, "Team backlog").gid
    section = s.add_section(project, "Backlog").gid
    for name in ("AI Priority Score", "Risk Score", "Estimated Story Points"):
        s.add_field_setting(project, s.add_custom_field(ws, name, "number", precision=0).gid)
    t1 = s.add_task(ws, "Login page", memberships=[(project, section)]).gid
    with SandboxServer(s, TOKEN) as server:
        yield server, {"ws": ws, "project": project, "t1": t1, "t2": t1, "approver": approver}


def _graph(g: dict[str, str], fields: dict[str, Any]) -> tuple[Any, SpecialistRegistry]:
    def triage(args: dict[str, Any], ctx: RunContext) -> Proposal:
        return Proposal(
            agent="fields",
            scope=Scope(workspace_gid=g["ws"], project_gids=[g["project"]]),
            title="AI fields",
            summary_markdown="Three suggestions.",
            actions=[
                Action(kind=ActionKind.SET_CUSTOM_FIELD, target=g["t1"], params={"field": k, "value": v})
                for k, v in fields.items()
            ],
        )

    registry = SpecialistRegistry([Specialist("fields", "test", triage, FakeArgs)])
    return build_supervisor_graph(registry).compile(checkpointer=InMemorySaver()), registry


def _values(client: AsanaClient, gid: str) -> dict[str, Any]:
    return {f.name: f.value for f in client.task(gid).custom_fields}


def test_a_lost_answer_to_the_fields_write_is_not_written_twice(
    world: tuple[SandboxServer, dict[str, str]],
) -> None:
    server, g = world
    fields = {"AI Priority Score": 80, "Risk Score": 3, "Estimated Story Points": 5}
    graph, registry = _graph(g, fields)
    journal = MemoryJournal(MemoryAudit())
    thread_id = uuid.uuid4().hex
    with (
        # Every answer lost (a PUT is retried: the client may re-send an idempotent write).
        LossyProxy(server.root_url, (f"/tasks/{g['t1']}",) * 20, methods=("PUT",)) as proxy,
        AsanaClient(f"{proxy.url}/api/1.0", TOKEN, retry=RetryPolicy(sleep=lambda s: None)) as client,
    ):
        ctx = http_context(client, registry, g, journal)
        with pytest.raises(ServerError):
            start_run(graph, ctx, thread_id, {"agent": "fields"})
        sent = _stats(server)["mutating"]["PUT /tasks/{task_gid}"]
        assert sent == len(proxy.lost)  # each attempt one PUT carrying all three fields
        proxy.pending.clear()
        done = recover_run(graph, ctx, thread_id)
        assert done.report is not None and done.report["status"] == "applied", done.report
        assert _stats(server)["mutating"]["PUT /tasks/{task_gid}"] == sent  # found written, not re-sent
        assert {k: _values(client, g["t1"])[k] for k in fields} == fields
    entries = sorted(journal.entries.values(), key=lambda e: e.action_index)
    assert [e.status for e in entries] == [LedgerStatus.DONE] * 3
    assert len(journal.audit.events("action.applied")) == 3


def test_a_field_that_cannot_be_written_fails_alone(world: tuple[SandboxServer, dict[str, str]]) -> None:
    server, g = world
    fields = {"AI Priority Score": 80, "Impediments": 1, "Risk Score": 3}  # not on the project
    graph, registry = _graph(g, fields)
    journal = MemoryJournal(MemoryAudit())
    with AsanaClient(f"{server.root_url}/api/1.0", TOKEN) as client:
        ctx = http_context(client, registry, g, journal)
        out = start_run(graph, ctx, uuid.uuid4().hex, {"agent": "fields"})
        assert out.report is not None and out.report["status"] == "partially_applied", out.report
        values = _values(client, g["t1"])
        assert values["AI Priority Score"] == 80 and values["Risk Score"] == 3
    by_index = {e.action_index: e.status for e in journal.entries.values()}
    assert by_index == {0: LedgerStatus.DONE, 1: LedgerStatus.FAILED, 2: LedgerStatus.DONE}
