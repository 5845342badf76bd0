"""The typed client's goal reads and writes against the sandbox, and goal progress on a free plan."""

from __future__ import annotations

import httpx
import pytest

from sandbox import goals as G
from sandbox.server import SandboxServer
from tests.sandbox.conftest import Mini
from tools.asana import AsanaClient, PaymentRequired, RetryPolicy
from tools.health.goals import find_goal, goal_progress

pytestmark = pytest.mark.integration


def test_client_reads_and_writes_goals(server: SandboxServer, mini: Mini) -> None:
    manual = G.add_goal(
        mini.store, mini.ws, "Beta users", metric={"target_number_value": 500, "current_number_value": 100}
    )
    by_tasks = G.add_goal(
        mini.store, mini.ws, "Backlog done", metric={"progress_source": "project_task_completion"}
    )
    with AsanaClient(server.base_url, server.token, retry=RetryPolicy(max_attempts=1)) as client:
        assert {g.name for g in client.goals(mini.ws)} == {"Beta users", "Backlog done"}
        rel = client.add_supporting_relationship(by_tasks.gid, mini.project, contribution_weight=1)
        assert rel.resource_subtype == "supporting_work" and rel.supporting_resource is not None
        assert (rel.supporting_resource.gid, rel.supporting_resource.name) == (
            mini.project,
            "Product Backlog",
        )
        assert [g.gid for g in client.goals_supported_by(mini.project)] == [by_tasks.gid]
        assert [
            r.supporting_resource.gid
            for r in client.goal_relationships(by_tasks.gid)
            if r.supporting_resource
        ] == [mini.project]

        updated = client.set_goal_current_value(manual.gid, 250)
        assert updated.metric is not None and updated.metric.progress == pytest.approx(0.5)
        read = client.goal(by_tasks.gid)
        assert read.metric is not None and read.metric.progress_source == "project_task_completion"
        assert read.metric.unit == "percentage" and read.metric.progress == 0  # nothing done yet
        assert find_goal(client, mini.ws, "BETA USERS").gid == manual.gid

        # The same numbers as Asana's own computation, explained in words.
        first = mini.store.project_tasks(mini.project)[0]
        mini.store.tasks[first].completed = True
        report = goal_progress(client, [mini.project])
        (row,) = report.goals
        n = len(mini.store.project_tasks(mini.project))
        assert (
            row.progress
            == pytest.approx(1 / n, abs=1e-4)
            == pytest.approx(G.progress(mini.store, by_tasks), abs=1e-4)
        )
        assert row.detail.startswith(f"1 of {n} tasks done in 1 supporting project(s)")

        # Goals are premium: a free plan answers 402, which the report states instead of failing.
        reply = httpx.put(
            f"{server.root_url}/__sandbox/plan",
            json={"plan": "free"},
            headers={"Authorization": f"Bearer {server.token}"},
        )
        assert reply.status_code == 200
        with pytest.raises(PaymentRequired, match="goals"):
            client.goal(manual.gid)
        assert goal_progress(client, [mini.project]).unavailable == "goals need a paid Asana plan"
