from __future__ import annotations

import datetime as dt

import pytest

from tests.contract.conftest import Scratch, Target
from tools.asana import AsanaClient, NotFound, TaskView

pytestmark = pytest.mark.contract


def test_task_crud(client: AsanaClient, scratch: Scratch) -> None:
    project = scratch.project("crud")
    me = client.me()
    task = scratch.task(
        project,
        name="Write login",
        notes="Acceptance criteria:\n- works",
        assignee=me.gid,
        due_on=dt.date(2026, 12, 1),
    )
    assert (task.name, task.assignee.gid if task.assignee else None) == ("Write login", me.gid)
    assert task.due_on == dt.date(2026, 12, 1)
    assert task.memberships and task.memberships[0].project and task.memberships[0].project.gid == project.gid

    updated = client.update_task(task.gid, {"name": "Write login page", "completed": True})
    assert updated.name == "Write login page" and updated.completed and updated.completed_at is not None
    fetched = client.task(task.gid)
    assert fetched.notes == "Acceptance criteria:\n- works"
    assert fetched.modified_at is not None and fetched.created_at is not None

    client.delete_task(task.gid)
    with pytest.raises(NotFound):
        client.task(task.gid)


def test_subtasks_and_parent(client: AsanaClient, scratch: Scratch) -> None:
    project = scratch.project("subtasks")
    parent = scratch.task(project, name="Epic")
    child1 = scratch.task(name="child 1", parent_gid=parent.gid)
    child2 = scratch.task(name="child 2", parent_gid=parent.gid)
    assert child1.parent and child1.parent.gid == parent.gid
    assert [t.gid for t in client.subtasks(parent.gid)] == [child1.gid, child2.gid]
    assert client.task(parent.gid, view=TaskView.PLANNING).num_subtasks == 2


def test_multi_homing_and_remove_project(client: AsanaClient, scratch: Scratch) -> None:
    backlog, sprint = scratch.project("backlog"), scratch.project("sprint")
    sprint_todo = client.create_section(sprint.gid, "To Do")
    task = scratch.task(backlog)
    client.add_task_to_project(task.gid, sprint.gid, section_gid=sprint_todo.gid)
    got = client.task(task.gid)
    assert {p.gid for p in got.projects} == {backlog.gid, sprint.gid}
    assert got.section_in(sprint.gid) is not None and got.section_in(sprint.gid).name == "To Do"  # type: ignore[union-attr]
    client.remove_task_from_project(task.gid, sprint.gid)
    assert {p.gid for p in client.task(task.gid).projects} == {backlog.gid}
    assert client.project_tasks(sprint.gid) == []


def test_section_add_task_moves_within_project(client: AsanaClient, scratch: Scratch) -> None:
    project = scratch.project("moves")
    s1, s2 = client.create_section(project.gid, "To Do"), client.create_section(project.gid, "In Progress")
    task = scratch.task(project)
    client.add_task_to_section(s1.gid, task.gid)
    client.add_task_to_section(s2.gid, task.gid)
    assert client.section_tasks(s1.gid) == []
    assert [t.gid for t in client.section_tasks(s2.gid)] == [task.gid]
    got = client.task(task.gid)
    assert [m.section.name for m in got.memberships if m.section] == ["In Progress"]


def test_tags(client: AsanaClient, scratch: Scratch, target: Target) -> None:
    project = scratch.project("tags")
    tag = client.create_tag(target.workspace_gid, f"contract-{project.gid[-6:]}")
    task = scratch.task(project)
    client.add_tag(task.gid, tag.gid)
    assert client.task(task.gid).tag_names == [tag.name]
    assert tag.gid in {t.gid for t in client.tags(target.workspace_gid)}
    client.remove_tag(task.gid, tag.gid)
    assert client.task(task.gid).tags == []


def test_approval_task(client: AsanaClient, scratch: Scratch) -> None:
    project = scratch.project("approval")
    task = scratch.task(project, name="Approve sprint plan", resource_subtype="approval")
    assert task.resource_subtype == "approval"
    assert task.approval_status == "pending"
    approved = client.update_task(task.gid, {"approval_status": "approved"})
    assert approved.approval_status == "approved"
    assert client.project_tasks(project.gid)[0].approval_status == "approved"
