"""A run made with the clock moved into the future must not leave LangGraph's checkpoint ids
there: a Celery worker on the real clock would then write checkpoints that sort before this
process's, and a thread's latest state would be read wrong (a killed worker's redelivery saw a
finished thread and skipped the rest of an approved apply)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from langgraph.checkpoint.base.id import uuid6

from evals.clock import travel


def test_leaving_a_travel_to_the_future_resets_the_checkpoint_id_clock() -> None:
    with travel(datetime.now(UTC) + timedelta(days=60)):
        future = uuid6()
    now = uuid6()
    assert now.time < future.time  # real time again, not "just after the future one"
