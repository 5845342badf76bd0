"""Moving the process clock (time-machine) without leaving the future behind.

LangGraph's checkpoint ids are uuid6 values that never go backwards within a process: it keeps the
last timestamp it used (`langgraph.checkpoint.base.id._last_v6_timestamp`). A run made while the
clock was moved into the future leaves that mark there, so every checkpoint this process writes
afterwards sorts after the ones another process (a Celery worker on the real clock) writes for the
same thread, and the thread's latest state is read wrong. Leaving a travel resets the mark.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any


@contextmanager
def travel(when: datetime, *, tick: bool = True) -> Iterator[Any]:
    import time_machine
    from langgraph.checkpoint.base import id as checkpoint_id

    before = checkpoint_id._last_v6_timestamp
    try:
        with time_machine.travel(when, tick=tick) as clock:
            yield clock
    finally:
        checkpoint_id._last_v6_timestamp = before
