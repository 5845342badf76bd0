"""The client refuses up front the task date combinations Asana answers 400 to (issue 18)."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.asana_client.fake_asana import FakeAsana, Reply, ok
from tools.asana import AsanaClient


def test_create_task_refuses_due_on_with_due_at(fake: FakeAsana, client: AsanaClient) -> None:
    # asana_oas.yaml: paths./tasks.post, TaskBase.due_on: "should not be used together with `due_at`"
    with pytest.raises(ValueError, match="due_on or due_at, not both"):
        client.create_task(name="A", projects=["42"], due_on="2026-12-01", due_at=dt.datetime(2026, 12, 1, 9))
    # TaskBase.start_on: "`due_on` or `due_at` must be present in the request"
    with pytest.raises(ValueError, match="start_on needs due_on or due_at"):
        client.create_task(name="A", projects=["42"], start_on="2026-12-01")
    assert fake.requests == []  # nothing was sent


def test_update_task_refuses_start_on_alone(fake: FakeAsana, client: AsanaClient) -> None:
    # asana_oas.yaml: paths./tasks/{task_gid}.put, TaskBase.start_on
    with pytest.raises(ValueError, match="start_on needs due_on or due_at"):
        client.update_task("9", {"start_on": dt.date(2026, 12, 1)})
    with pytest.raises(ValueError, match="not both"):
        client.update_task("9", {"due_on": "2026-12-01", "due_at": "2026-12-01T09:00:00Z"})
    assert fake.requests == []
    fake.script(ok({"gid": "9", "start_on": "2026-12-01", "due_on": "2026-12-05"}))
    client.update_task("9", {"start_on": dt.date(2026, 12, 1), "due_on": dt.date(2026, 12, 5)})
    assert fake.requests[-1].json == {"data": {"start_on": "2026-12-01", "due_on": "2026-12-05"}}
    fake.script(Reply(200, {"data": {"gid": "9"}}))
    client.update_task("9", {"due_on": None, "due_at": "2026-12-01T09:00:00Z"})  # clearing one is fine
