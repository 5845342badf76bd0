from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.contract.conftest import Scratch, Target
from tools.asana import AsanaClient, TaskView

pytestmark = pytest.mark.contract

N_TASKS = 260


def test_pagination_costs_one_call_per_100_tasks(
    client: AsanaClient, scratch: Scratch, target: Target
) -> None:
    project = scratch.project("pagination")
    with ThreadPoolExecutor(8) as pool:
        created = list(pool.map(lambda i: scratch.task(project, name=f"page task {i:03d}"), range(N_TASKS)))
    assert client.calls["POST /tasks"] == N_TASKS
    assert client.limits.peak["write"] <= client.limits.max_writes
    client.calls.reset()
    if target.is_sandbox:
        target.admin("POST", "/stats/reset")

    tasks = client.project_tasks(project.gid)
    assert sorted(t.gid for t in tasks) == sorted(t.gid for t in created)
    assert len({t.gid for t in tasks}) == N_TASKS  # no duplicates across page boundaries
    expected = math.ceil(N_TASKS / 100)
    assert client.calls["GET /projects/{gid}/tasks"] == expected
    assert client.calls.total == expected
    if target.is_sandbox:
        stats = target.admin("GET", "/stats")
        assert stats["total"] == expected  # the server saw exactly as many requests


def test_opt_fields_projection(client: AsanaClient, scratch: Scratch) -> None:
    project = scratch.project("projection")
    scratch.task(project, name="projected", notes="secret notes")
    compact = client.project_tasks(project.gid, view=TaskView.COMPACT)[0]
    assert compact.model_fields_set | set(compact.model_extra or {}) <= {
        "gid",
        "name",
        "resource_subtype",
        "completed",
        "resource_type",
    }
    assert compact.notes is None and compact.name == "projected"
    planning = client.project_tasks(project.gid, view=TaskView.PLANNING)[0]
    assert planning.notes == "secret notes"
    assert {"memberships", "custom_fields", "dependencies", "num_subtasks"} <= planning.model_fields_set
    assert (
        planning.memberships[0].project is not None and planning.memberships[0].project.name == project.name
    )
