from __future__ import annotations

import pytest

from tests.contract.conftest import Scratch
from tools.asana import AsanaClient, BadRequest, TaskView

pytestmark = pytest.mark.contract


def test_add_and_remove_dependencies_and_dependents(client: AsanaClient, scratch: Scratch) -> None:
    project = scratch.project("deps")
    a, b, c = (scratch.task(project, name=n) for n in ("A", "B", "C"))
    client.add_dependencies(b.gid, [a.gid])  # B blocked by A
    client.add_dependents(b.gid, [c.gid])  # C blocked by B
    tasks = {t.gid: t for t in client.project_tasks(project.gid)}
    assert tasks[b.gid].dependency_gids == [a.gid]
    assert tasks[b.gid].dependent_gids == [c.gid]
    assert tasks[a.gid].dependent_gids == [b.gid]
    assert tasks[c.gid].dependency_gids == [b.gid]
    client.remove_dependencies(b.gid, [a.gid])
    client.remove_dependents(b.gid, [c.gid])
    after = client.task(b.gid, view=TaskView.PLANNING)
    assert after.dependencies == [] and after.dependents == []


def test_self_dependency_is_rejected(client: AsanaClient, scratch: Scratch) -> None:
    task = scratch.task(scratch.project("self"))
    with pytest.raises(BadRequest):
        client.add_dependencies(task.gid, [task.gid])


def test_thirty_link_cap(client: AsanaClient, scratch: Scratch) -> None:
    project = scratch.project("cap")
    hub = scratch.task(project, name="hub")
    others = [scratch.task(project, name=f"dep {i}") for i in range(31)]
    client.add_dependencies(hub.gid, [t.gid for t in others[:20]])
    client.add_dependents(hub.gid, [t.gid for t in others[20:30]])  # 30 links in all: allowed
    with pytest.raises(BadRequest):
        client.add_dependencies(hub.gid, [others[30].gid])
    got = client.task(hub.gid, view=TaskView.PLANNING)
    assert len(got.dependencies) + len(got.dependents) == 30
