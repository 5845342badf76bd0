from __future__ import annotations

import datetime as dt

import pytest

from tests.contract.conftest import Scratch, Target
from tools.asana import AsanaClient
from tools.asana.models import CustomField

pytestmark = pytest.mark.contract


def test_project_sections_settings_counts(
    client: AsanaClient, scratch: Scratch, target: Target, contract_fields: dict[str, CustomField]
) -> None:
    project = scratch.project("meta", notes="contract", start_on=dt.date(2026, 11, 23), due_on="2026-12-04")
    assert project.name and project.name.startswith("sprintpilot-contract")
    assert (project.start_on, project.due_on) == (dt.date(2026, 11, 23), dt.date(2026, 12, 4))
    assert client.project(project.gid).notes == "contract"
    assert client.find_project(target.workspace_gid, project.name).gid == project.gid

    todo = client.create_section(project.gid, "To Do")
    done = client.create_section(project.gid, "Done")
    assert {"To Do", "Done"} <= {s.name for s in client.sections(project.gid)}

    client.add_custom_field_to_project(project.gid, contract_fields["number"].gid)
    client.add_custom_field_to_project(project.gid, contract_fields["enum"].gid)
    fmap = client.field_map(project.gid)
    assert {contract_fields["number"].name, contract_fields["enum"].name} <= set(fmap.names)
    assert [o.name for o in fmap.require(contract_fields["enum"].name or "").enum_options] == [
        "Alpha",
        "Beta",
        "Gamma",
    ]

    a = scratch.task(project)
    b = scratch.task(project)
    client.add_task_to_section(todo.gid, a.gid)
    client.add_task_to_section(done.gid, b.gid)
    client.update_task(b.gid, {"completed": True})
    counts = client.task_counts(project.gid)
    assert (counts.num_tasks, counts.num_completed_tasks, counts.num_incomplete_tasks) == (2, 1, 1)
    assert [t.gid for t in client.section_tasks(done.gid)] == [b.gid]
    open_only = client.project_tasks(project.gid, completed_since="now")
    assert [t.gid for t in open_only] == [a.gid]


def test_membership_is_duplicate_free(client: AsanaClient, scratch: Scratch) -> None:
    project = scratch.project("dupes")
    section = client.create_section(project.gid, "Ready")
    task = scratch.task(project)
    client.add_task_to_project(task.gid, project.gid)  # already a member: must not duplicate
    client.add_task_to_project(task.gid, project.gid, section_gid=section.gid)  # moves it
    got = client.task(task.gid)
    assert [m.project.gid for m in got.memberships if m.project] == [project.gid]
    assert got.section_in(project.gid) is not None and got.section_in(project.gid).gid == section.gid  # type: ignore[union-attr]
    assert [t.gid for t in client.project_tasks(project.gid)] == [task.gid]


def test_a_new_project_starts_with_one_untitled_section_that_can_be_renamed(
    client: AsanaClient, scratch: Scratch
) -> None:
    """What the planner's `create_section(rename_default=True)` relies on (graphs/kinds/projects.py)."""
    from graphs.kinds.projects import DEFAULT_SECTION

    project = scratch.project("default-section")
    (default,) = client.sections(project.gid)
    assert default.name == DEFAULT_SECTION
    renamed = client.update_section(default.gid, "To Do")
    assert (renamed.gid, renamed.name) == (default.gid, "To Do")
    assert [(s.gid, s.name) for s in client.sections(project.gid)] == [(default.gid, "To Do")]
