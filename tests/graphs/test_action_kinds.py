"""Every writer kind through approve-all: the right client call with resolved refs and markers."""

from __future__ import annotations

from agents.proposal import Action, ActionKind
from graphs.ports import LedgerStatus
from graphs.runner import resume_run, start_run
from tests.graphs.conftest import T1, T2, World
from tests.graphs.fakes import PROJECT


def _kinds() -> list[Action]:
    return [
        Action(
            kind=ActionKind.CREATE_TASK,
            ref="spike",
            reason="spike",
            params={"name": "Auth spike", "projects": [PROJECT], "custom_fields": {"Priority": "High"}},
        ),
        Action(
            kind=ActionKind.CREATE_SUBTASK, target="ref:spike", params={"name": "Read the RFC"}, ref="sub"
        ),
        Action(kind=ActionKind.ADD_DEPENDENCY, target=T1, params={"dependencies": ["ref:spike"]}),
        Action(kind=ActionKind.REMOVE_DEPENDENCY, target=T2, params={"dependencies": [T1]}),
        Action(
            kind=ActionKind.SET_CUSTOM_FIELD,
            target=T2,
            params={"field": "Priority", "value": "High"},
            before={"Priority": "Low"},
        ),
        Action(kind=ActionKind.UPDATE_TASK, target=T2, params={"completed": True, "assignee": "3000"}),
        Action(
            kind=ActionKind.POST_STATUS_UPDATE,
            target=PROJECT,
            params={"title": "Day 3", "text": "On track", "status_type": "on_track"},
        ),
        Action(kind=ActionKind.ATTACH_FILE, target=T1, params={"filename": "plan.md", "content": "# Plan"}),
    ]


def test_all_writer_kinds(world: World, thread_id: str) -> None:
    world.set_actions(_kinds)
    out = start_run(world.graph, world.ctx(), thread_id, {"agent": "fake_planner"})
    # auto ones (status update, attachment) are already out; approval ones are not
    assert [m for m, _ in world.asana.writes][:2] == ["create_status_update", "upload_attachment"]
    assert "[AI Proposal]" not in (world.asana.status_log[PROJECT][0].text or "")
    assert "⟨sp:" in (world.asana.status_log[PROJECT][0].text or "")
    assert out.interrupt is not None and len(out.interrupt["action_requests"]) == 6

    done = resume_run(world.graph, world.ctx(), thread_id, [{"type": "approve"}], "alice")
    assert done.report is not None
    assert done.report["status"] == "applied", done.report["failures"]
    created = {c["ref"]: c["gid"] for c in done.report["created"]}
    spike = world.asana.tasks[created["spike"]]
    assert spike.field("Priority") == "High" and "⟨sp:" in (spike.notes or "")
    assert world.asana.tasks[created["sub"]].parent.gid == spike.gid  # type: ignore[union-attr]
    assert world.asana.tasks[T1].dependency_gids == [spike.gid]
    t2 = world.asana.tasks[T2]
    assert t2.field("Priority") == "High" and t2.completed is True and t2.assignee.gid == "3000"  # type: ignore[union-attr]
    assert world.asana.attachment_log[T1][0].name == "plan.md"
    assert {e.status for e in world.journal.entries.values()} == {LedgerStatus.DONE}


def test_unknown_custom_field_fails_cleanly_at_apply(world: World, thread_id: str) -> None:
    world.set_actions(
        lambda: [
            Action(kind=ActionKind.SET_CUSTOM_FIELD, target=T2, params={"field": "Sprint", "value": "24"}),
            Action(kind=ActionKind.UPDATE_TASK, target=T1, params={"name": "Login page v2"}),
        ]
    )
    start_run(world.graph, world.ctx(), thread_id, {"agent": "fake_planner"})
    done = resume_run(world.graph, world.ctx(), thread_id, [{"type": "approve"}], "alice")
    assert done.report is not None and done.report["status"] == "partially_applied"
    assert "custom field 'Sprint'" in done.report["failures"][0]["message"]
    assert world.asana.tasks[T1].name == "Login page v2"
