"""The triage throughput benchmark runs end to end (real Celery worker, webhook receiver, Postgres,
the sandbox with Asana's quota) and counts only sprintpilot's own Asana calls."""

from __future__ import annotations

import pytest

from evals.bench_triage_throughput import measure

pytestmark = pytest.mark.integration


def test_a_burst_of_new_tasks_is_triaged_at_the_minimum_calls(pg_admin_url: str, redis_url: str) -> None:
    row = measure(workers=1, tasks=3, quota="paid", timeout_s=180.0)
    assert row.tasks == 3 and row.seconds > 0
    # One task read, one modified_since read, one PUT, one comment (a few more when a handling
    # overlaps the index's refresh or the first project read of a process).
    assert 3.5 <= row.calls_per_task <= 6.0, sorted(row.by_route.items())
    assert row.throttled == 0
    assert row.ceiling_per_minute >= 250
