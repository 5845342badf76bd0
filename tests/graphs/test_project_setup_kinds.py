"""Setting up a new project through the graph, over HTTP on the sandbox (issue 16, the sprint board):
`add_project_fields` puts the backlog's custom fields on it, `create_section` with `rename_default`
takes over Asana's "Untitled section", `create_project` gives it a human owner — and a crash after
any of those writes, recovered, leaves exactly the same project (no second section, no field twice).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver

from agents.proposal import Action, ActionKind, Proposal, Scope
from graphs.registry import Specialist, SpecialistRegistry
from graphs.runner import recover_run, resume_run, start_run
from graphs.supervisor import build_supervisor_graph
from sandbox.server import SandboxServer
from sandbox.store import Store
from tests.graphs.conftest import FakeArgs
from tests.graphs.fakes import MemoryAudit, MemoryJournal
from tests.graphs.test_sandbox_http import TOKEN, http_context
from tools.asana.client import AsanaClient

pytestmark = pytest.mark.integration
FIELDS = ["Story Points", "Risk Score"]


class SimulatedCrash(BaseException):
    """The process dies (nothing on the way catches a BaseException)."""


class CrashAfter:
    """The real client, except that the process dies right after its n-th write reached Asana."""

    WRITES = frozenset(
        {
            "create_project",
            "add_custom_field_to_project",
            "update_section",
            "create_section",
            "add_task_to_project",
            "update_task",
            "create_task",
            "add_comment",
        }
    )

    def __init__(self, client: AsanaClient, n: int) -> None:
        self._client, self._left = client, n

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._client, name)
        if name not in self.WRITES:
            return attr

        def write(*args: Any, **kwargs: Any) -> Any:
            result = attr(*args, **kwargs)
            self._left -= 1
            if self._left == 0:
                raise SimulatedCrash(name)
            return result

        return write


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
    for name in FIELDS:
        s.add_field_setting(project, s.add_custom_field(ws, name, "number", precision=0).gid)
    t1 = s.add_task(ws, "Login page", memberships=[(project, backlog)]).gid
    with SandboxServer(s, TOKEN) as server:
        yield server, {"ws": ws, "project": project, "t1": t1, "approver": approver, "bot": bot}


def _setup_actions(g: dict[str, str], **section: Any) -> list[Action]:
    return [
        Action(
            kind=ActionKind.CREATE_PROJECT,
            params={"name": "Sprint 24", "owner_gid": g["approver"]},
            ref="sprint",
        ),
        Action(
            kind=ActionKind.ADD_PROJECT_FIELDS,
            target="ref:sprint",
            params={"fields": FIELDS, "source": g["project"]},
        ),
        Action(
            kind=ActionKind.CREATE_SECTION,
            target=section.get("target", "ref:sprint"),
            params={"name": "To Do", "rename_default": True},
            ref="todo",
        ),
        Action(kind=ActionKind.CREATE_SECTION, target="ref:sprint", params={"name": "Done"}, ref="done"),
        Action(
            kind=ActionKind.ADD_TO_PROJECT,
            target=g["t1"],
            params={"project": "ref:sprint", "section": "ref:todo"},
        ),
        # What the dependency manager writes later on the sprint's tasks, through the sprint's fields.
        Action(
            kind=ActionKind.SET_CUSTOM_FIELD,
            target=g["t1"],
            params={"field": "Risk Score", "value": 70, "project": "ref:sprint"},
        ),
    ]


def _graph(g: dict[str, str], actions: list[Action]) -> tuple[Any, SpecialistRegistry]:
    def plan(args: dict[str, Any], ctx: Any) -> Proposal:
        return Proposal(
            agent="setup",
            scope=Scope(workspace_gid=g["ws"], project_gids=[g["project"]]),
            title="Sprint 24 board",
            summary_markdown="A new sprint board.",
            actions=actions,
        )

    registry = SpecialistRegistry([Specialist("setup", "sets up a sprint board (test)", plan, FakeArgs)])
    return build_supervisor_graph(registry).compile(checkpointer=InMemorySaver()), registry


def _sprint(client: AsanaClient, ws: str) -> Any:
    (sprint,) = [p for p in client.projects(ws) if p.name == "Sprint 24"]
    return sprint


def _assert_board(client: AsanaClient, g: dict[str, str]) -> None:
    sprint = _sprint(client, g["ws"])
    assert sprint.owner is not None and sprint.owner.gid == g["approver"]
    assert [s.name for s in client.sections(sprint.gid)] == ["To Do", "Done"]
    assert [s.custom_field.name for s in client.custom_field_settings(sprint.gid)] == FIELDS
    task = client.task(g["t1"])
    assert task.number("Risk Score") == 70
    todo = client.sections(sprint.gid)[0]
    assert task.section_in(sprint.gid).gid == todo.gid  # type: ignore[union-attr]


def test_new_project_gets_fields_owner_and_the_board_without_untitled_section(
    sandbox: tuple[SandboxServer, dict[str, str]],
) -> None:
    server, g = sandbox
    graph, registry = _graph(g, _setup_actions(g))
    journal = MemoryJournal(MemoryAudit())
    thread = uuid.uuid4().hex
    with AsanaClient(server.base_url, TOKEN) as client:
        ctx = http_context(client, registry, g, journal)
        out = start_run(graph, ctx, thread, {"agent": "setup"})
        assert out.status == "awaiting_approval"
        done = resume_run(graph, ctx, thread, [{"type": "approve"}], "ana")
        assert done.report is not None and done.report["status"] == "applied", done.report
        _assert_board(client, g)


@pytest.mark.parametrize(
    "crash_after",
    [
        2,  # one of two fields added
        3,  # both fields added, the action not yet recorded
        4,  # "Untitled section" renamed to To Do, not yet recorded
        5,  # Done created
    ],
)
def test_a_crash_after_any_setup_write_recovers_to_the_same_project(
    sandbox: tuple[SandboxServer, dict[str, str]], crash_after: int
) -> None:
    server, g = sandbox
    graph, registry = _graph(g, _setup_actions(g))
    journal = MemoryJournal(MemoryAudit())
    thread = uuid.uuid4().hex
    with AsanaClient(server.base_url, TOKEN) as client:
        ctx = http_context(client, registry, g, journal)
        start_run(graph, ctx, thread, {"agent": "setup"})
        ctx.writes = CrashAfter(client, crash_after)
        with pytest.raises(SimulatedCrash):
            resume_run(graph, ctx, thread, [{"type": "approve"}], "ana")
        ctx.writes = client  # a new process: same ledger, checkpoints and repository
        outcome = recover_run(graph, ctx, thread)
        assert outcome.report is not None and outcome.report["status"] == "applied", outcome.report
        _assert_board(client, g)


def test_fields_already_on_the_project_are_done_without_a_write(
    sandbox: tuple[SandboxServer, dict[str, str]],
) -> None:
    server, g = sandbox
    store = server.store
    sprint = store.add_project(g["ws"], "Sprint 24").gid
    points = next(cf.gid for cf in store.custom_fields.values() if cf.name == "Story Points")
    store.add_field_setting(sprint, points)
    g = {**g, "sprint": sprint}
    action = Action(
        kind=ActionKind.ADD_PROJECT_FIELDS, target=sprint, params={"fields": FIELDS, "source": g["project"]}
    )
    graph, registry = _graph(g, [action])
    journal = MemoryJournal(MemoryAudit())
    with AsanaClient(server.base_url, TOKEN) as client:
        ctx = http_context(client, registry, g, journal)
        ctx.allowed_project_gids = frozenset({g["project"], sprint})
        for _ in range(2):  # the second time everything is there: done, nothing written
            thread = uuid.uuid4().hex
            start_run(graph, ctx, thread, {"agent": "setup"})
            done = resume_run(graph, ctx, thread, [{"type": "approve"}], "ana")
            assert done.report is not None and done.report["status"] == "applied", done.report
        assert [s.custom_field.name for s in client.custom_field_settings(sprint)] == FIELDS
    entries = [e for e in journal.entries.values() if e.kind == "add_project_fields"]
    assert sorted((e.result or {}).get("message", "") for e in entries) == [
        "applied",
        "every field is already on the project",
    ]


def test_a_field_missing_on_the_source_fails_and_adds_nothing(
    sandbox: tuple[SandboxServer, dict[str, str]],
) -> None:
    server, g = sandbox
    actions = _setup_actions(g)[:2]
    actions[1].params["fields"] = ["Story Points", "Velocity"]
    graph, registry = _graph(g, actions)
    journal = MemoryJournal(MemoryAudit())
    thread = uuid.uuid4().hex
    with AsanaClient(server.base_url, TOKEN) as client:
        ctx = http_context(client, registry, g, journal)
        start_run(graph, ctx, thread, {"agent": "setup"})
        done = resume_run(graph, ctx, thread, [{"type": "approve"}], "ana")
        assert done.report is not None
        (failure,) = done.report["failures"]
        assert failure["kind"] == "add_project_fields" and "Velocity" in failure["message"]
        assert client.custom_field_settings(_sprint(client, g["ws"]).gid) == []


def test_renaming_the_default_section_of_an_existing_project_is_denied(
    sandbox: tuple[SandboxServer, dict[str, str]],
) -> None:
    server, g = sandbox
    rename = _setup_actions(g, target=g["project"])[2]
    rename.ref = None
    graph, registry = _graph(g, [rename])
    journal = MemoryJournal(MemoryAudit())
    with AsanaClient(server.base_url, TOKEN) as client:
        out = start_run(
            graph, http_context(client, registry, g, journal), uuid.uuid4().hex, {"agent": "setup"}
        )
        assert out.report is not None and out.report["counts"].get("denied") == 1
        assert "renames the default section only in a project this proposal creates" in str(out.report)
        assert [s.name for s in client.sections(g["project"])] == ["Backlog"]
