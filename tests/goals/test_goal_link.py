"""A sprint linked to an Asana goal: the planner's `goal` proposes `link_goal`, which waits for
approval and is applied once, also when the answer to the write is lost and the run recovers.
Goals are resolved only among those the person (or the service's token) can see."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver

from agents.proposal import Action, ActionKind, ApprovalClass, Proposal, Scope
from graphs.context import RunContext
from graphs.registry import Specialist, SpecialistRegistry
from graphs.runner import recover_run, resume_run, start_run
from graphs.supervisor import build_supervisor_graph
from graphs.visibility import Person, Viewer, VisibleReads
from sandbox import goals as G
from sandbox.server import SandboxServer
from service.runtime import Runtime, open_runtime
from service.settings import load_settings
from tests.graphs.conftest import FakeArgs
from tests.graphs.fakes import MemoryAudit, MemoryJournal
from tests.graphs.test_ambiguous_writes import LossyProxy
from tests.graphs.test_sandbox_http import TOKEN, _stats, http_context, sandbox  # noqa: F401 - fixture
from tools.asana.client import AsanaClient
from tools.asana.errors import NotFound, ServerError
from tools.asana.retry import RetryPolicy
from tools.health.goals import find_goal

pytestmark = pytest.mark.integration
# The day after Sprint 23 of the seeded workspace ended: the planner proposes Sprint 24.
NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
ADD = "/goals/{goal_gid}/addSupportingRelationship"


@pytest.fixture
def rt(tmp_path: Path) -> Iterator[Runtime]:
    with open_runtime(load_settings(data_dir=tmp_path, asana_base_url=None, model="offline")) as r:
        yield r


def _plan(rt: Runtime, **args: Any) -> Any:
    ws = rt.resolve_workspace()
    ctx = rt.context(
        actor="agent:planner", approver_gid=rt.approver_for(ws, "Product Backlog"), now=lambda: NOW
    )
    thread = uuid.uuid4().hex
    return thread, start_run(
        rt.graph, ctx, thread, {"agent": "planner", "args": {"project": "Product Backlog", **args}}
    )


def test_the_plan_links_the_new_sprint_to_the_goal_once_approved(rt: Runtime) -> None:
    assert rt.sandbox is not None
    store = rt.sandbox.store
    goal = G.add_goal(
        store,
        rt.resolve_workspace(),
        "Mobile retention 40%",
        metric={"progress_source": "project_task_completion"},
    )
    thread, out = _plan(rt, goal="mobile retention 40%")  # names match case-insensitively
    assert out.status == "awaiting_approval", out.report
    record = rt.repo.get_proposal(out.interrupt["proposal_id"])
    assert record is not None
    links = [a for a in record.proposal.actions if a.kind is ActionKind.LINK_GOAL]
    assert len(links) == 1
    assert (links[0].target, links[0].params) == ("ref:sprint_project", {"goal": goal.gid})
    assert links[0].approval_class is ApprovalClass.NEEDS_APPROVAL
    assert "link_goal" in [r["name"] for r in out.interrupt["action_requests"]]
    assert "**Asana goal:** Mobile retention 40%" in record.proposal.summary_markdown
    assert record.proposal.evidence["goal"]["gid"] == goal.gid
    assert not G.relationships(store)  # nothing before approval

    ctx = rt.context(actor="cli:po", now=lambda: NOW)
    done = resume_run(rt.graph, ctx, thread, [{"type": "approve"}], "cli:po", out.interrupt["digest"])
    assert done.report is not None and done.report["status"] == "applied", done.report
    sprint = next(p for p in store.projects.values() if p.name == "Sprint 24")
    rels = [
        (r.supported_goal, r.supporting_resource, r.resource_subtype) for r in G.relationships(store).values()
    ]
    assert rels == [(goal.gid, sprint.gid, "supporting_work")]
    assert store.stats.count("POST", ADD) == 1


def test_a_goal_the_user_cannot_see_is_not_found(rt: Runtime) -> None:
    assert rt.sandbox is not None
    store = rt.sandbox.store
    ws = rt.resolve_workspace()
    bot = rt.asana.me().gid
    people = [u for u in store.users.values() if u.gid != bot]
    owner, member, outsider = people[0], people[1], people[2]
    # Members only, and the service's token is no member: Asana answers 404, the plan says "no goal".
    G.add_goal(store, ws, "Board goal", privacy_setting="members_only", owner=owner.gid)
    _, out = _plan(rt, goal="Board goal")
    assert out.status == "error" and "no goal named 'Board goal'" in str(out.report)
    assert store.stats.count("POST", ADD) == 0

    # A person's run sees only what that person sees, even when the token sees more.
    shared = G.add_goal(
        store, ws, "Team goal", privacy_setting="members_only", owner=owner.gid, followers=[member.gid]
    )
    shared.followers.append(bot)  # the service token sees it; the person may not
    reads = rt.context().asana
    as_member = VisibleReads(reads, Viewer(Person(gid=member.gid), frozenset()))
    as_outsider = VisibleReads(reads, Viewer(Person(gid=outsider.gid), frozenset()))
    assert find_goal(as_member, ws, "team goal").gid == shared.gid
    with pytest.raises(NotFound, match="no goal named 'team goal'"):
        find_goal(as_outsider, ws, "team goal")
    with pytest.raises(NotFound):
        find_goal(as_outsider, ws, shared.gid)  # by gid as well


def test_a_lost_answer_to_the_link_never_links_twice(
    sandbox: tuple[SandboxServer, dict[str, str]],  # noqa: F811 - the imported fixture
) -> None:
    server, g = sandbox
    goal = G.add_goal(server.store, g["ws"], "Ship login")

    def plan(args: dict[str, Any], ctx: RunContext) -> Proposal:
        return Proposal(
            agent="http_planner",
            scope=Scope(workspace_gid=g["ws"], project_gids=[g["project"]]),
            title="Link the backlog to the goal",
            summary_markdown="The backlog supports Ship login.",
            actions=[Action(kind=ActionKind.LINK_GOAL, target=g["project"], params={"goal": goal.gid})],
        )

    registry = SpecialistRegistry([Specialist("http_planner", "test planner", plan, FakeArgs)])
    graph = build_supervisor_graph(registry).compile(checkpointer=InMemorySaver())
    journal = MemoryJournal(MemoryAudit())
    thread_id = uuid.uuid4().hex
    with (
        LossyProxy(server.root_url, ("/addSupportingRelationship",)) as proxy,
        AsanaClient(f"{proxy.url}/api/1.0", TOKEN, retry=RetryPolicy(sleep=lambda s: None)) as client,
    ):
        ctx = http_context(client, registry, g, journal)
        assert start_run(graph, ctx, thread_id, {"agent": "http_planner"}).status == "awaiting_approval"
        assert not G.relationships(server.store)
        # Asana links the project, but its answer is lost: the run stops, the write is not re-sent.
        with pytest.raises(ServerError):
            resume_run(graph, ctx, thread_id, [{"type": "approve"}], "ana")
        assert len(proxy.lost) == 1 and len(G.relationships(server.store)) == 1

        done = recover_run(graph, ctx, thread_id)  # the stale check finds the link: done
        assert done.report is not None and done.report["status"] == "applied", done.report
    assert _stats(server)["mutating"][f"POST {ADD}"] == 1
    assert len(G.relationships(server.store)) == 1
