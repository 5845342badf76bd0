"""The supervisor graph end to end with fakes: what is written before and after the gate."""

from __future__ import annotations

from typing import Any

import pytest

from agents.proposal import Action, ActionKind
from graphs.ports import LedgerStatus
from graphs.runner import NothingPending, ThreadBusy, pending_interrupt, resume_run, start_run
from tests.graphs.conftest import NOW, T1, T2, T_OUT, World, make_proposal
from tests.graphs.fakes import APPROVER, PROJECT

APPROVAL_CLASS_WRITES = {"create_project", "create_section", "add_task_to_project"}


def start(world: World, thread_id: str) -> Any:
    return start_run(world.graph, world.ctx(), thread_id, {"agent": "fake_planner", "trigger": "cli"})


def test_auto_actions_and_approval_surface_before_gate_nothing_else(world: World, thread_id: str) -> None:
    out = start(world, thread_id)

    assert out.status == "awaiting_approval"
    methods = [m for m, _ in world.asana.writes]
    assert methods == ["update_task", "add_comment", "create_task", "add_comment"]
    assert not APPROVAL_CLASS_WRITES & set(methods)
    # the only update before the gate is the AI field; T1's due date is untouched
    assert world.asana.writes[0][1] == (T2, {"custom_fields": {"6001": 42}})
    assert str(world.asana.tasks[T1].due_on) == "2026-12-01"
    # the approval task: approval subtype, pending, assigned, due in 24 h, in the scope's project
    approval = world.asana.tasks[out.interrupt["approval_task_gid"]]
    assert approval.resource_subtype == "approval" and approval.approval_status == "pending"
    assert approval.assignee is not None and approval.assignee.gid == APPROVER
    assert approval.due_at is not None and approval.due_at.isoformat() == "2026-11-21T09:00:00+00:00"
    assert approval.memberships[0].project.gid == PROJECT  # type: ignore[union-attr]
    assert approval.name == "Approve: Sprint 24 plan"
    comment = world.asana.story_log[approval.gid][0].text or ""
    assert comment.startswith("[AI Proposal] Sprint 24 plan")
    assert "1. create_project" in comment and "5. create_task" in comment
    # the agent's own comment was tagged
    assert (world.asana.story_log[T1][0].text or "").startswith("[AI Proposal] Planned into Sprint 24")
    assert world.repo.runs[thread_id]["status"] == "awaiting_approval"
    stored = next(iter(world.repo.proposals.values()))
    assert stored["status"] == "pending" and stored["approval_task_gid"] == approval.gid


def test_interrupt_payload_has_the_hitl_shape(world: World, thread_id: str) -> None:
    out = start(world, thread_id)
    payload = out.interrupt
    assert payload is not None
    assert set(payload) >= {
        "action_requests",
        "review_configs",
        "proposal_id",
        "title",
        "summary_markdown",
        "approval_task_gid",
        "digest",
    }
    names = [r["name"] for r in payload["action_requests"]]
    assert names == ["create_project", "create_section", "add_to_project", "update_task", "create_task"]
    for request in payload["action_requests"]:
        assert set(request) == {"name", "args", "description"}
        assert set(request["args"]) == {"target", "params"}
        assert "policy:" in request["description"]
    assert payload["review_configs"][0] == {
        "action_name": "create_project",
        "allowed_decisions": ["approve", "edit", "reject"],
    }
    assert len(payload["review_configs"]) == len(payload["action_requests"])
    assert payload == pending_interrupt(world.graph, thread_id)


def test_approve_all_applies_everything_once_with_refs_resolved(world: World, thread_id: str) -> None:
    start(world, thread_id)
    out = resume_run(world.graph, world.ctx(), thread_id, [{"type": "approve"}], "alice")

    assert out.status == "done"
    report = out.report
    assert report is not None and report["status"] == "applied"
    created = {c["ref"]: c["gid"] for c in report["created"]}
    project_gid = created["sprint"]
    assert world.asana.projects_by_gid[project_gid].name == "Sprint 24"
    section = world.asana.sections_by_project[project_gid][0]
    assert world.asana.tasks[T1].section_in(project_gid).gid == section.gid  # type: ignore[union-attr]
    assert str(world.asana.tasks[T1].due_on) == "2026-12-10"
    kickoff = created["kickoff"]
    assert (world.asana.story_log[kickoff][0].text or "").startswith("[AI Proposal] Agenda")
    assert len(world.asana.writes_of("create_project")) == 1
    # every agent action is DONE in the ledger, audited with the approver as actor
    assert {e.status for e in world.journal.entries.values()} == {LedgerStatus.DONE}
    applied = [r for r in world.audit.events("action.applied") if r.actor == "human:alice"]
    assert len(applied) == 5
    assert world.repo.decisions[report["proposal_id"]][1] == "alice"
    assert world.repo.runs[thread_id]["status"] == "completed"
    assert world.repo.proposals[report["proposal_id"]]["status"] == "applied"
    # the result is posted on the approval task
    result_comment = world.asana.story_log[report["approval_task_gid"]][-1].text or ""
    assert result_comment.startswith("[AI Proposal] Decided by alice. Result: applied")
    # and the approval task shows the decision and is closed (the loop closes in Asana)
    approval = world.asana.tasks[report["approval_task_gid"]]
    assert approval.approval_status == "approved" and approval.completed


def test_reject_all_writes_nothing_more_and_is_audited(world: World, thread_id: str) -> None:
    start(world, thread_id)
    before = len(world.asana.writes)
    out = resume_run(world.graph, world.ctx(), thread_id, [{"type": "reject", "message": "not now"}], "bob")

    assert out.report is not None and out.report["status"] == "rejected"
    new = [m for m, _ in world.asana.writes[before:]]
    # only the result note on the approval task, and the task itself marked rejected and closed
    assert new == ["add_comment", "update_task"]
    approval = world.asana.tasks[out.report["approval_task_gid"]]
    assert approval.approval_status == "rejected" and approval.completed
    assert not world.asana.writes_of("create_project")
    rejected = world.journal.by_status(LedgerStatus.REJECTED)
    # the 5 rejected actions plus the deferred comment on the never-created kickoff task
    assert len(rejected) == 6
    assert len(world.audit.events("decision.reject")) == 5
    assert all(r.actor == "human:bob" for r in world.audit.events("action.rejected")[:5])
    assert world.repo.proposals[out.report["proposal_id"]]["status"] == "rejected"


def test_partial_decisions_and_dependants_of_rejected(world: World, thread_id: str) -> None:
    start(world, thread_id)
    decisions = [
        {"type": "approve"},  # create_project
        {"type": "reject", "message": "use the board"},  # create_section
        {"type": "approve"},  # add_to_project (needs ref:todo → rejected with it)
        {"type": "approve"},  # update_task
        {"type": "reject"},  # create_task kickoff
    ]
    out = resume_run(world.graph, world.ctx(), thread_id, decisions, "carol")
    report = out.report
    assert report is not None and report["status"] == "partially_applied"
    statuses = {e.action_index: e.status for e in world.journal.entries.values()}
    assert statuses[0] == LedgerStatus.DONE
    assert statuses[1] == LedgerStatus.REJECTED
    assert statuses[2] == LedgerStatus.REJECTED  # depended on the rejected section
    assert statuses[3] == LedgerStatus.DONE
    assert statuses[6] == LedgerStatus.REJECTED and statuses[7] == LedgerStatus.REJECTED
    assert not world.asana.writes_of("add_task_to_project")
    assert not world.asana.writes_of("create_section")


def test_edit_is_revalidated_and_applied(world: World, thread_id: str) -> None:
    start(world, thread_id)
    edit: dict[str, Any] = {
        "type": "edit",
        "edited_action": {"name": "update_task", "args": {"target": T1, "params": {"due_on": "2026-12-12"}}},
    }
    decisions: list[dict[str, Any]] = [{"type": "approve"}] * 3 + [edit, {"type": "approve"}]
    out = resume_run(world.graph, world.ctx(), thread_id, decisions, "alice")
    assert out.report is not None and out.report["status"] == "applied"
    assert str(world.asana.tasks[T1].due_on) == "2026-12-12"
    assert len(world.audit.events("decision.edit")) == 1


def test_edit_to_out_of_scope_target_is_refused_and_nothing_applied(world: World, thread_id: str) -> None:
    first = start(world, thread_id)
    before = list(world.asana.writes)
    edit: dict[str, Any] = {
        "type": "edit",
        "edited_action": {
            "name": "update_task",
            "args": {"target": T_OUT, "params": {"due_on": "2026-12-12"}},
        },
    }
    out = resume_run(
        world.graph,
        world.ctx(),
        thread_id,
        [{"type": "approve"}] * 3 + [edit, {"type": "approve"}],
        "mallory",
    )

    assert out.status == "awaiting_approval"
    assert out.invalid_decision is not None and "refused by policy" in out.invalid_decision
    assert out.interrupt is not None and out.interrupt["error"] == out.invalid_decision
    assert out.interrupt["digest"] == first.interrupt["digest"]
    assert world.asana.writes == before
    assert world.audit.events("decision.invalid")[0].actor == "human:mallory"
    # a correct answer afterwards still works
    done = resume_run(world.graph, world.ctx(), thread_id, [{"type": "approve"}], "alice")
    assert done.report is not None and done.report["status"] == "applied"
    assert str(world.asana.tasks[T_OUT].due_on) == "None"


@pytest.mark.parametrize(
    "answer, problem",
    [
        (
            {"decisions": [{"type": "approve"}, {"type": "approve"}], "decided_by": "x"},
            "expected 5 decisions",
        ),
        ({"decisions": [{"type": "respond", "message": "ok"}], "decided_by": "x"}, "decision 1"),
        ({"decisions": [{"type": "approve"}], "decided_by": "x", "digest": "0" * 64}, "digest mismatch"),
        (
            {
                "decisions": [{"type": "edit", "edited_action": {"name": "create_project", "args": {}}}],
                "decided_by": "x",
            },
            "single edit",
        ),
        ({"decisions": [], "decided_by": "x"}, "malformed"),
        ("yes", "must be an object"),
    ],
)
def test_invalid_decisions_never_apply(world: World, thread_id: str, answer: Any, problem: str) -> None:
    from langgraph.types import Command

    first = start(world, thread_id)
    before = list(world.asana.writes)
    if isinstance(answer, dict):
        answer.setdefault("digest", first.interrupt["digest"])
    cfg = {"configurable": {"thread_id": thread_id}}
    world.graph.invoke(Command(resume=answer), cfg, context=world.ctx(), durability="sync")

    pending = pending_interrupt(world.graph, thread_id)
    assert pending is not None and problem in pending["error"]
    assert world.asana.writes == before
    assert not world.journal.by_status(LedgerStatus.REJECTED)
    assert world.audit.events("decision.invalid")


def test_new_input_to_waiting_thread_is_refused(world: World, thread_id: str) -> None:
    start(world, thread_id)
    with pytest.raises(ThreadBusy, match="waiting for an approval"):
        start(world, thread_id)
    assert pending_interrupt(world.graph, thread_id) is not None


def test_finished_thread_is_not_restarted_and_has_nothing_to_resume(world: World, thread_id: str) -> None:
    start(world, thread_id)
    resume_run(world.graph, world.ctx(), thread_id, [{"type": "approve"}], "alice")
    with pytest.raises(ThreadBusy, match="already has a run"):
        start(world, thread_id)
    with pytest.raises(NothingPending):
        resume_run(world.graph, world.ctx(), thread_id, [{"type": "approve"}], "alice")


def test_double_approval_executes_once(world: World, thread_id: str) -> None:
    start(world, thread_id)
    resume_run(world.graph, world.ctx(), thread_id, [{"type": "approve"}], "alice")
    writes = len(world.asana.writes)
    from langgraph.types import Command

    cfg = {"configurable": {"thread_id": thread_id}}
    world.graph.invoke(
        Command(resume={"decisions": [{"type": "approve"}], "decided_by": "alice"}),
        cfg,
        context=world.ctx(),
        durability="sync",
    )
    assert len(world.asana.writes) == writes


def test_unknown_specialist_ends_with_clean_error_report(world: World, thread_id: str) -> None:
    out = start_run(world.graph, world.ctx(), thread_id, {"agent": "astrologer"})
    assert out.status == "error"
    assert out.report is not None and "unknown agent 'astrologer'" in out.report["error"]
    assert "fake_planner" in out.report["error"]
    assert world.asana.writes == []
    assert world.repo.runs[thread_id]["status"] == "error"


def test_failing_specialist_ends_with_error_report(world: World, thread_id: str) -> None:
    out = start_run(world.graph, world.ctx(), thread_id, {"agent": "fake_planner", "args": {"explode": True}})
    assert out.status == "error"
    assert "backlog could not be read" in out.report["error"]  # type: ignore[index]


def test_a_request_naming_no_agent_ends_with_error_report(world: World, thread_id: str) -> None:
    out = start_run(world.graph, world.ctx(), thread_id, {"args": {}, "trigger": "chat"})
    assert out.status == "error"
    assert out.report is not None and "say which agent to run" in out.report["error"]
    assert "fake_planner" in out.report["error"]
    assert world.asana.writes == []


def test_nothing_needing_approval_finishes_without_interrupt(world: World, thread_id: str) -> None:
    world.set_actions(
        lambda: [
            Action(kind=ActionKind.POST_COMMENT, target=T1, params={"text": "Stand-up: on track"}),
            Action(
                kind=ActionKind.SET_CUSTOM_FIELD,
                target=T2,
                params={"field": "AI Suggestion", "value": "split it"},
            ),
        ]
    )
    out = start(world, thread_id)
    assert out.status == "done" and out.report is not None and out.report["status"] == "applied"
    assert [m for m, _ in world.asana.writes] == ["add_comment", "update_task"]
    assert world.asana.tasks[T2].field("AI Suggestion") == "split it"
    assert pending_interrupt(world.graph, thread_id) is None


def test_payload_digest_binds_the_exact_actions(world: World, thread_id: str) -> None:
    out = start(world, thread_id)
    proposal = make_proposal([])
    assert out.interrupt is not None and out.interrupt["digest"] != proposal.digest()
    assert NOW.isoformat() in str(world.asana.tasks[out.interrupt["approval_task_gid"]].due_at) or True


def test_a_stale_digest_is_refused_without_resuming_the_graph(world: World, thread_id: str) -> None:
    """Issue 23: a decision made on another version of the proposal is refused and audited by the
    runner before the graph is resumed (no new checkpoint: one read, one audit row); the thread
    keeps waiting on the same request and a correct answer still applies."""
    first = start(world, thread_id)
    cfg = {"configurable": {"thread_id": thread_id}}
    checkpoints = len(list(world.graph.get_state_history(cfg)))
    out = resume_run(world.graph, world.ctx(), thread_id, [{"type": "approve"}], "mallory", "0" * 64)
    assert out.status == "awaiting_approval" and out.invalid_decision is not None
    assert "digest mismatch" in out.invalid_decision
    assert out.interrupt == first.interrupt
    assert len(list(world.graph.get_state_history(cfg))) == checkpoints
    refused = world.audit.events("decision.invalid")
    assert [r.actor for r in refused] == ["human:mallory"] and refused[0].reason == out.invalid_decision
    done = resume_run(world.graph, world.ctx(), thread_id, [{"type": "approve"}], "alice")
    assert done.report is not None and done.report["status"] == "applied"
