"""Celery configuration invariants, the retry schedule, the router table, thread locks, the relay."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from celery.utils.time import get_exponential_backoff_interval
from pydantic import ValidationError
from sqlalchemy import Engine

from service.db.engine import make_engine, write_session
from service.db.events import OutboxMessage
from service.db.migrate import migrate
from service.events.inbox import store_events
from service.events.locks import ThreadLocked, thread_lock
from service.events.reconcile import watched_projects
from service.events.relay import relay_all, relay_batch
from service.events.router import ROUTES, EventFacts, Route, match_route, on, register_route
from service.events.subscriptions import bind_webhook, expect_handshake, record_handshake
from service.settings import load_settings
from service.worker.app import make_celery
from service.worker.config import WorkerConfig
from service.worker.tasks import TRANSIENT_ERRORS
from tools.asana.errors import BadRequest, Forbidden, NotFound, RateLimited, ServerError, TransportError


def _app(**cfg: Any) -> Any:
    return make_celery(load_settings(database_url="sqlite:///:memory:"), WorkerConfig(**cfg))


def test_visibility_timeout_is_set_everywhere_and_exceeds_every_countdown() -> None:
    app = _app()
    conf = app.conf
    vt = conf.visibility_timeout
    assert conf.broker_transport_options["visibility_timeout"] == vt
    assert conf.result_backend_transport_options["visibility_timeout"] == vt
    assert max(app.worker_config.countdowns()) < vt
    task = app.tasks["sprintpilot.process_event"]
    # The largest countdown Celery can compute for any retry stays below the timeout.
    for retries in range(task.max_retries + 1):
        assert (
            get_exponential_backoff_interval(task.retry_backoff, retries, task.retry_backoff_max, False) < vt
        )
    assert conf.task_acks_late and conf.task_reject_on_worker_lost
    assert conf.worker_prefetch_multiplier == 1
    assert conf.worker_cancel_long_running_tasks_on_connection_loss


def test_config_refuses_a_countdown_longer_than_the_visibility_timeout() -> None:
    with pytest.raises(ValidationError, match="visibility_timeout"):
        WorkerConfig(visibility_timeout_s=60, retry_backoff_max_s=120, retry_backoff_s=30)


def test_retry_schedule_backs_off_exponentially_with_full_jitter(monkeypatch: pytest.MonkeyPatch) -> None:
    task = _app(retry_backoff_s=2, retry_backoff_max_s=300).tasks["sprintpilot.process_event"]
    assert task.retry_jitter is True and task.max_retries == 4
    windows = [
        get_exponential_backoff_interval(task.retry_backoff, n, task.retry_backoff_max, False)
        for n in range(4)
    ]
    assert windows == [2, 4, 8, 16]
    # Full jitter: uniform over [0, window]; pin randrange to see the bounds Celery draws from.
    seen: list[int] = []

    def pinned(n: int) -> int:
        seen.append(n)
        return n // 2

    monkeypatch.setattr(random, "randrange", pinned)
    jittered = [
        get_exponential_backoff_interval(task.retry_backoff, n, task.retry_backoff_max, True)
        for n in range(4)
    ]
    assert seen == [3, 5, 9, 17] and jittered == [1, 2, 4, 8]


def test_only_transient_errors_are_retried() -> None:
    task = _app().tasks["sprintpilot.process_event"]
    assert set(task.autoretry_for) == set(TRANSIENT_ERRORS)
    for transient in (RateLimited(429, "x"), ServerError(503, "x"), TransportError("x"), ThreadLocked("x")):
        assert isinstance(transient, task.autoretry_for)
    for permanent in (BadRequest(400, "x"), Forbidden(403, "x"), NotFound(404, "x"), ValueError("bad")):
        assert not isinstance(permanent, task.autoretry_for)


def test_beat_schedule_and_queues() -> None:
    schedule = _app().conf.beat_schedule
    assert schedule["relay-outbox"]["schedule"].total_seconds() == 2
    assert schedule["reconcile-all"]["schedule"].total_seconds() == 300
    assert schedule["sync-approvals"]["schedule"].total_seconds() == 120


def _event(
    field: str | None = "approval_status", *, rtype: str = "task", action: str = "changed"
) -> dict[str, Any]:
    return {
        "action": action,
        "resource": {
            "gid": "42",
            "resource_type": rtype,
            "resource_subtype": "approval",
            "name": "approve me",
        },
        "parent": None,
        "change": {"field": field, "action": "changed"} if field else None,
        "user": {"gid": "7", "resource_type": "user"},
    }


def _base_routes() -> list[Route]:
    """The router's own table, without the agents' routes another test in this process (e.g. the
    team-life eval, which processes events in-process) may have installed."""
    return [r for r in ROUTES if r.name == "approval_decision"]


def test_router_matches_structured_fields_only() -> None:
    base = _base_routes()
    route = match_route(EventFacts.from_payload(_event()), base)
    assert route is not None and route.name == "approval_decision" and route.handler == "resume_approval"
    assert match_route(EventFacts.from_payload(_event("name")), base) is None
    assert (
        match_route(EventFacts.from_payload(_event(rtype="story", action="added", field=None)), base) is None
    )
    # Text fields are not even part of what a predicate can see.
    assert not hasattr(EventFacts.from_payload(_event()), "name")
    assert ROUTES[0].agent == "approval"  # the approval route comes first whatever is installed


def test_routes_can_be_registered_in_order() -> None:
    table = _base_routes()
    register_route(
        Route(
            "triage", on(resource_type="task", action="added", parent_type="project"), "start_agent", "triage"
        ),
        routes=table,
    )
    register_route(
        Route("first", on(resource_type="task"), "start_agent", "x"), before="approval_decision", routes=table
    )
    assert [r.name for r in table] == ["first", "approval_decision", "triage"]
    with pytest.raises(ValueError):
        register_route(Route("triage", on(), "start_agent", "triage"), routes=table)
    added = {
        "action": "added",
        "resource": {"gid": "1", "resource_type": "task"},
        "parent": {"gid": "9", "resource_type": "project"},
    }
    assert match_route(EventFacts.from_payload(added), table[1:]).name == "triage"  # type: ignore[union-attr]


@pytest.fixture
def pg_engine(pg_url: str) -> Iterator[Engine]:
    migrate(pg_url)
    engine = make_engine(pg_url)
    yield engine
    engine.dispose()


@pytest.mark.integration
def test_thread_lock_serialises_runs_across_connections(pg_engine: Engine) -> None:
    held = threading.Event()
    release = threading.Event()

    def holder() -> None:
        with thread_lock(pg_engine, "thread-1"):
            held.set()
            release.wait(10)

    t = threading.Thread(target=holder)
    t.start()
    assert held.wait(10)
    with pytest.raises(ThreadLocked), thread_lock(pg_engine, "thread-1", wait_s=0.3):
        pass
    with thread_lock(pg_engine, "thread-2"):  # other threads are independent
        pass
    release.set()
    t.join()
    with thread_lock(pg_engine, "thread-1", wait_s=1):
        pass


def _store(engine: Engine, n: int) -> None:
    events = [
        {
            "action": "changed",
            "created_at": f"2026-11-20T10:00:{i:02d}.000Z",
            "resource": {"gid": str(i), "resource_type": "task"},
            "change": {"field": "name", "action": "changed"},
            "user": None,
            "parent": None,
        }
        for i in range(n)
    ]
    with write_session(engine) as session:
        store_events(session, events, source="webhook")


@pytest.mark.integration
def test_relay_publishes_in_order_and_keeps_rows_while_the_broker_is_down(pg_engine: Engine) -> None:
    _store(pg_engine, 5)
    sent: list[int] = []
    broker_up = False

    def publish(row: OutboxMessage) -> None:
        if not broker_up and row.inbox_id >= 3:
            raise ConnectionError("broker down")
        sent.append(row.inbox_id)

    result = relay_batch(pg_engine, publish)
    assert result.published == 2 and result.failed == 1 and sent == [1, 2]
    broker_up = True
    result = relay_all(pg_engine, publish)
    assert result.published == 3 and sent == [1, 2, 3, 4, 5]
    assert relay_all(pg_engine, publish).published == 0


@pytest.mark.integration
def test_concurrent_relays_publish_each_row_once(pg_engine: Engine) -> None:
    _store(pg_engine, 40)
    sent: list[int] = []
    lock = threading.Lock()

    def publish(row: OutboxMessage) -> None:
        with lock:
            sent.append(row.inbox_id)

    threads = [
        threading.Thread(target=relay_all, args=(pg_engine, publish), kwargs={"batch": 5}) for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(sent) == list(range(1, 41))


@pytest.mark.integration
def test_reconciliation_covers_projects_whose_webhook_was_registered(pg_engine: Engine) -> None:
    assert watched_projects(pg_engine, ["200"]) == ["200"]
    expect_handshake(pg_engine, "nonce-1", "https://hooks.example/webhooks/asana/nonce-1", "100")
    record_handshake(pg_engine, "nonce-1", "s3cret")
    bind_webhook(
        pg_engine,
        "nonce-1",
        webhook_gid="w-1",
        resource_gid="100",
        resource_type="project",
        workspace_gid="1",
        create_secret="s3cret",
    )
    # `webhooks register` needs no separate "watch" step: the subscription row is what is polled.
    assert watched_projects(pg_engine, ["200"]) == ["100", "200"]
