"""The worker app for the integration tests: the production app plus one test-only route whose
handler kills its own process (a poison message), for the task gid in SPRINTPILOT_TEST_CRASH_GID."""

from __future__ import annotations

import os
import signal
from typing import Any

from service.events.router import EventFacts, Route, register_route
from service.worker.app import make_celery
from service.worker.handlers import EventWork, HandlerResult, register_handler

CRASH_GID = os.environ.get("SPRINTPILOT_TEST_CRASH_GID", "")


def _is_crash_task(facts: EventFacts) -> bool:
    return (
        bool(CRASH_GID)
        and facts.resource_type == "task"
        and facts.resource_gid == CRASH_GID
        and facts.change_field == "name"
    )


def _crash(work: EventWork) -> HandlerResult:
    os.kill(os.getpid(), signal.SIGKILL)  # the child dies mid-task, every time
    raise AssertionError("unreachable")


register_handler("test_crash", _crash)
register_route(
    Route("test_crash", _is_crash_task, handler="test_crash", agent="test"), before="approval_decision"
)
app: Any = make_celery()
