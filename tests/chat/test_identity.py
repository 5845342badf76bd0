"""Issue 18, "Permissions are not mirrored": every chat/API user is an Asana identity, and sees
and proposes only within what that user can see in Asana.

Reproductions: "ravi" (free text) asked about a project he cannot see and got its confidential task
names and caused a comment there; approvers named by free text; with no approver configured
anyone could approve in chat (`--as mallory`).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from conftest import PRIYA, RAVI, chat_registry
from fake_model import call, scripted
from langchain_core.messages import AIMessage

from graphs.approvers import NONE_CONFIGURED, Approvers
from graphs.runner import start_run
from graphs.visibility import Person
from service.chat_runtime import ChatConfig, chat_session
from service.identity import UnknownPerson
from service.runtime import Runtime, open_runtime
from service.settings import Settings

PRIYA_GID = "1200000000000002"
TEAM = "1200000000000012"
SECRET = "Secret Roadmap"
CONFIDENTIAL = "Confidential acquisition of Initech"


def _secret_project(rt: Runtime) -> str:
    """A private project only Priya (and the service account, which must see it to work on it)
    belongs to, holding a confidential task."""
    assert rt.sandbox is not None
    store = rt.sandbox.store
    ws = rt.resolve_workspace()
    members = [PRIYA_GID, rt.asana.me().gid]
    with store.lock:
        project = store.add_project(ws, SECRET, team=TEAM, owner=PRIYA_GID, members=members, public=False)
        section = store.add_section(project.gid, "To Do")
        store.add_task(ws, CONFIDENTIAL, memberships=[(project.gid, section.gid)], assignee=PRIYA_GID)
    return project.gid


def _tool_text(rt: Runtime, user: str, thread: str, agent: str, args: dict[str, Any]) -> str:
    model = scripted(AIMessage(content="", tool_calls=[call(agent, args, "c1")]), AIMessage(content="ok"))
    events = list(chat_session(rt, thread, user, model=model).send("go"))
    return " ".join(str(e.data.get("content", "")) for e in events if e.kind == "tool")


def _masked(text: str, *names: str) -> str:
    for name in names:
        text = text.replace(name, "<X>")
    return re.sub(r"\d{10,}", "<gid>", text)


def test_a_free_text_user_is_refused(rt: Runtime) -> None:
    with pytest.raises(UnknownPerson, match="'ravi' is not an Asana user"):
        chat_session(rt, "t-free", "ravi")
    assert chat_session(rt, "t-email", RAVI).user == RAVI  # an email is an identity
    assert chat_session(rt, "t-gid", "1200000000000010").user == RAVI  # so is a gid


def test_a_project_ravi_cannot_see_is_not_found_like_a_missing_one(rt: Runtime) -> None:
    secret_gid = _secret_project(rt)
    writes_before = rt.sandbox.store.next_event_seq if rt.sandbox else 0

    by_name = _tool_text(rt, RAVI, "t-n1", "standup", {"project": SECRET})
    missing_name = _tool_text(rt, RAVI, "t-n2", "standup", {"project": "Secret Roadmop"})
    assert CONFIDENTIAL not in by_name and secret_gid not in by_name
    assert "no project named" in by_name
    assert _masked(by_name, SECRET) == _masked(missing_name, "Secret Roadmop")

    by_gid = _tool_text(rt, RAVI, "t-g1", "standup", {"project": secret_gid})
    missing_gid = _tool_text(rt, RAVI, "t-g2", "standup", {"project": "1200000099999999"})
    assert CONFIDENTIAL not in by_gid
    assert _masked(by_gid) == _masked(missing_gid)

    listed = _tool_text(rt, RAVI, "t-l", "list_projects", {"query": "Secret"})
    assert SECRET not in listed
    # A task of the project, named or by gid, is out of reach too: no review, no comment.
    task_gid = next(t.gid for t in rt.sandbox.store.tasks.values() if t.name == CONFIDENTIAL)  # type: ignore[union-attr]
    review = _tool_text(rt, RAVI, "t-q", "qa", {"task": task_gid})
    assert CONFIDENTIAL not in review
    assert rt.repo.list_proposals() == []  # nothing proposed, so nothing can be written
    assert (rt.sandbox.store.next_event_seq if rt.sandbox else 0) == writes_before

    # Priya, a member, sees it.
    assert SECRET in _tool_text(rt, PRIYA, "t-p", "list_projects", {"query": "Secret"})


def test_a_tool_call_made_for_ravi_outside_chat_cannot_reach_the_project(rt: Runtime) -> None:
    """The MCP-style path: a specialist invoked directly with the person's context."""
    secret_gid = _secret_project(rt)
    ravi = rt.viewer(rt.person(RAVI))
    assert secret_gid not in ravi.projects
    outcome = start_run(
        rt.graph,
        rt.context(actor=f"mcp:{RAVI}", viewer=ravi),
        "t-mcp",
        {"agent": "standup", "args": {"project": secret_gid}},
    )
    said = str(outcome.report)
    assert outcome.status == "error", said
    assert "Unknown object" in said and CONFIDENTIAL not in said
    assert rt.repo.list_proposals() == []
    priya = rt.viewer(rt.person(PRIYA))
    assert priya.sees(secret_gid)


def test_approvers_are_asana_identities_matched_by_email_or_gid() -> None:
    people = {PRIYA: Person(gid=PRIYA_GID, email=PRIYA), PRIYA_GID: Person(gid=PRIYA_GID, email=PRIYA)}
    by_gid = Approvers.only([PRIYA_GID], people.get)
    assert by_gid.allows(f"chat:{PRIYA}") and by_gid.allows(f"api:{PRIYA_GID}")
    assert not by_gid.allows("chat:priya")  # a free-text name is not an identity
    assert not by_gid.allows(f"chat:{RAVI}")
    nobody = Approvers.only([], people.get)
    assert nobody.refusal(f"chat:{PRIYA}") == NONE_CONFIGURED
    assert nobody.allows("cli:ops")  # the operator's terminal, with nobody narrowing it


def test_with_no_approver_configured_nobody_approves_in_chat(settings: Settings) -> None:
    bare = settings.model_copy(update={"approvers": []})
    with open_runtime(bare, registry=chat_registry()) as rt:
        model = scripted(
            AIMessage(
                content="", tool_calls=[call("planner", {"project": "Product Backlog", "capacity": 20}, "p")]
            ),
            AIMessage(content="Planned."),
        )
        session = chat_session(rt, "t-nobody", RAVI, model=model, config=ChatConfig())
        assert any(e.kind == "approval" for e in session.send("plan"))
        refused = list(session.send("approve"))
        assert [e.kind for e in refused] == ["error"]
        assert "no approvers are configured" in refused[0].data["message"]
        assert "Asana approval task" in refused[0].data["message"]
        assert session.pending() is not None


def test_an_approver_named_by_email_decides_a_chat_proposal_in_asana(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chat approvers named as Asana users: Priya's own approval on the Asana task counts (it was
    refused on every sync while approvers were free-text names)."""
    from service.approvals import sync_from_asana
    from tools.asana.client import AsanaClient

    monkeypatch.setenv("SPRINTPILOT_CHAT_APPROVERS", PRIYA)
    with open_runtime(settings.model_copy(update={"approvers": []}), registry=chat_registry()) as rt:
        model = scripted(
            AIMessage(
                content="", tool_calls=[call("planner", {"project": "Product Backlog", "capacity": 20}, "p")]
            ),
            AIMessage(content="Planned."),
        )
        session = chat_session(rt, "t-asana", RAVI, model=model)
        request = next(e.data["request"] for e in session.send("plan") if e.kind == "approval")
        task_gid = request["approval_task_gid"]
        assert rt.sandbox is not None
        token = rt.sandbox.token_for(PRIYA_GID)
        assert token is not None
        with AsanaClient(rt.sandbox.base_url, token) as priya:
            priya.update_task(task_gid, {"approval_status": "approved"})
        (result,) = sync_from_asana(rt)
        assert result.outcome is not None and result.outcome.report is not None
        assert result.outcome.report["decided_by"] == f"asana:{PRIYA_GID}"


def test_approvals_of_a_project_are_shown_and_decided_only_by_people_who_see_it(rt: Runtime) -> None:
    from types import SimpleNamespace

    from agents.proposal import Proposal, Scope
    from service.approvals import NotAnApprover, refuse_unless_approver, visible_to

    secret_gid = _secret_project(rt)
    proposal = Proposal(
        agent="planner",
        scope=Scope(workspace_gid=rt.resolve_workspace(), project_gids=[secret_gid]),
        title="t",
        summary_markdown="s",
    )
    record: Any = SimpleNamespace(id=proposal.id, thread_id="t-secret", proposal=proposal)
    assert visible_to(rt, rt.person(PRIYA), record)
    assert not visible_to(rt, rt.person(RAVI), record)
    refuse_unless_approver(rt, record, f"api:{PRIYA}")  # an approver who sees it: allowed
    blind = rt.settings.model_copy(update={"approvers": [PRIYA, RAVI]})
    rt.settings = blind
    with pytest.raises(NotAnApprover, match="cannot see every project"):
        refuse_unless_approver(rt, record, f"api:{RAVI}")
    denied = [r for r in rt.audit.rows(limit=50, thread_id="t-secret") if r.event == "decision.unauthorized"]
    assert len(denied) == 1 and denied[0].actor == f"human:api:{RAVI}"
