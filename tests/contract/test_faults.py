"""Retry behaviour against injected faults (sandbox only: real Asana cannot be told to fail)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.contract.conftest import FakeSleep, Scratch, Target
from tools.asana import AsanaClient, RetryPolicy, ServerError

pytestmark = pytest.mark.contract


@pytest.fixture
def faults(target: Target) -> Iterator[Any]:
    target.require_sandbox("fault injection is a sandbox admin feature")

    def inject(**config: Any) -> None:
        target.admin("PUT", "/faults", config)

    yield inject
    target.clear_faults()


def _client_clearing_faults_on_first_wait(target: Target, **policy: Any) -> tuple[AsanaClient, FakeSleep]:
    """A client whose (fake) sleep lifts the fault: the first attempt fails, the retry succeeds."""

    class ClearingSleep(FakeSleep):
        def __call__(self, seconds: float) -> None:
            super().__call__(seconds)
            target.clear_faults()

    sleep = ClearingSleep()
    retry = RetryPolicy(sleep=sleep, clock=sleep.clock, **policy)
    return target.new_client(retry=retry, breaker=False), sleep


def test_429_on_get_honours_retry_after(target: Target, faults: Any, scratch: Scratch) -> None:
    project = scratch.project("429 get")
    c, sleep = _client_clearing_faults_on_first_wait(target)
    with c:
        faults(rate_429=1.0, retry_after_s=3, methods=["GET"])
        assert c.project(project.gid).gid == project.gid
        assert sleep.waits == [3.0]
        assert c.calls["GET /projects/{gid}"] == 2


def test_429_on_post_is_retried_once_and_writes_once(target: Target, faults: Any, scratch: Scratch) -> None:
    project = scratch.project("429 post")
    c, sleep = _client_clearing_faults_on_first_wait(target)
    with c:
        faults(rate_429=1.0, retry_after_s=2, methods=["POST"])
        task = c.create_task(name="posted after 429", projects=[project.gid])
        scratch.cleanups.append(lambda: scratch.client.delete_task(task.gid))
        assert sleep.waits == [2.0]
        assert c.calls["POST /tasks"] == 2
        assert [t.name for t in c.project_tasks(project.gid)] == ["posted after 429"]


def test_5xx_is_retried_then_succeeds(target: Target, faults: Any, scratch: Scratch) -> None:
    project = scratch.project("5xx")
    c, sleep = _client_clearing_faults_on_first_wait(target, base_delay=0.5)
    with c:
        faults(rate_5xx=1.0, status_5xx=502)
        assert isinstance(c.sections(project.gid), list)
        assert len(sleep.waits) == 1 and 0 <= sleep.waits[0] <= 0.5
        assert c.calls.total == 2 and c.calls.retries == 1


def test_persistent_5xx_is_bounded(
    target: Target, faults: Any, fast_client: tuple[AsanaClient, FakeSleep]
) -> None:
    c, sleep = fast_client
    c.retry.max_attempts = 3
    faults(rate_5xx=1.0, status_5xx=503)
    with pytest.raises(ServerError) as info:
        c.me()
    assert info.value.status == 503
    assert c.calls.total == 3 and len(sleep.waits) == 2
