"""The ingest benchmark (issue 23) at a small size: the receiver and its reference floor run side
by side in alternating rounds, every distinct event lands once with its outbox row, and the
repeats are answered as duplicates. Its speed is the benchmark's business, not this test's."""

from __future__ import annotations

import pytest

from evals.bench_webhook_ingest import run_both

pytestmark = pytest.mark.integration


def test_the_receiver_and_the_floor_are_measured_in_alternating_rounds(pg_url: str) -> None:
    result, floor = run_both(pg_url, events=60, threads=2, dup_ratio=0.2, rounds=3)
    assert result.non_2xx == 0 and floor.failures == 0
    assert result.deliveries == 60 and len(floor.latencies) == 60
    assert result.inbox_rows == result.outbox_rows == result.distinct_events == 48
    assert result.duplicates_dropped == result.duplicates_sent == 12
    assert result.wall_s > 0 and floor.wall > 0 and floor.cpu >= 0
