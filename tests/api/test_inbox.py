"""`dedup_key` and `store_events`: one inbox row per distinct event, whatever path it came by."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import Engine, func, select

from service.db import make_engine, migrate, write_session
from service.db.events import InboxEvent, OutboxMessage
from service.events.inbox import dedup_key, store_events, store_events_now
from service.events.inbox_async import AsyncInbox, async_inbox_for
from service.metrics import create_metrics
from tests.api.conftest import event
from tools.asana.models import Event


def test_webhook_and_events_api_shapes_share_a_key() -> None:
    compact = event("42")
    # The events API through the typed client: datetimes parsed, refs with names, extra fields.
    parsed = Event.model_validate(
        {
            **compact,
            "created_at": "2026-11-20T10:00:00Z",
            "user": {"gid": "7", "resource_type": "user", "name": "Ana"},
            "resource": {"gid": "42", "resource_type": "task", "name": "Login"},
            "type": "task",
        }
    )
    assert dedup_key(compact) == dedup_key(parsed) == dedup_key(parsed.model_dump(mode="json"))


@pytest.mark.parametrize(
    "change",
    [
        {"action": "added"},
        {"created_at": "2026-11-20T10:00:00.001Z"},
        {"user": {"gid": "8", "resource_type": "user"}},
        {"resource": {"gid": "43", "resource_type": "task"}},
        {"change": {"field": "notes", "action": "changed"}},
        {"parent": {"gid": "5", "resource_type": "project"}},
    ],
)
def test_any_identifying_field_changes_the_key(change: dict[str, object]) -> None:
    assert dedup_key(event("42")) != dedup_key({**event("42"), **change})


def _counts(engine: Engine) -> tuple[int, int]:
    with engine.connect() as conn:
        return (
            conn.execute(select(func.count()).select_from(InboxEvent)).scalar_one(),
            conn.execute(select(func.count()).select_from(OutboxMessage)).scalar_one(),
        )


@pytest.fixture(params=["sqlite", "postgres"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Engine:
    url = (
        f"sqlite:///{tmp_path / 'app.db'}" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    )
    migrate(url)
    engine = make_engine(url)
    request.addfinalizer(engine.dispose)
    return engine


def test_store_events_is_idempotent_across_sources(db: Engine) -> None:
    with write_session(db) as s:
        assert store_events(s, [event("1"), event("2"), event("1")], source="webhook", webhook_gid="9") == (
            2,
            1,
        )
    with write_session(db) as s:
        assert store_events(s, [Event.model_validate(event("2")), event("3")], source="events_api") == (1, 1)
    with write_session(db) as s:
        assert store_events(s, [], source="webhook") == (0, 0)
    assert _counts(db) == (3, 3)
    with db.connect() as conn:
        rows = conn.execute(select(InboxEvent.resource_gid, InboxEvent.source).order_by(InboxEvent.id)).all()
        payloads = conn.execute(select(OutboxMessage.payload).order_by(OutboxMessage.id)).scalars().all()
    assert [tuple(r) for r in rows] == [("1", "webhook"), ("2", "webhook"), ("3", "events_api")]
    assert [p["resource_gid"] for p in payloads] == ["1", "2", "3"]
    assert all(p["inbox_id"] for p in payloads)


def test_store_events_rolls_back_with_the_callers_transaction(db: Engine) -> None:
    with pytest.raises(RuntimeError), write_session(db) as s:
        store_events(s, [event("1")], source="webhook")
        raise RuntimeError("crash before commit")
    assert _counts(db) == (0, 0)


def test_store_events_now_commits_on_its_own_with_the_same_rows(db: Engine) -> None:
    """The receiver's common path (issue 23): on Postgres one autocommit statement, elsewhere a
    transaction of its own; either way committed when it returns, repeats counted as before."""
    assert store_events_now(db, [event("1"), event("2"), event("1")], source="webhook", webhook_gid="9") == (
        2,
        1,
    )
    assert store_events_now(db, [event("2")], source="webhook", webhook_gid="9") == (0, 1)
    assert store_events_now(db, [], source="webhook") == (0, 0)
    assert _counts(db) == (2, 2)  # read on another connection: committed
    with db.connect() as conn:
        payloads = conn.execute(select(OutboxMessage.payload).order_by(OutboxMessage.id)).scalars().all()
    assert [p["resource_gid"] for p in payloads] == ["1", "2"]
    with pytest.raises(ValueError):
        store_events_now(db, [event("3")], source="carrier-pigeon")
    assert _counts(db) == (2, 2)


def test_unknown_source_is_refused(db: Engine) -> None:
    with pytest.raises(ValueError), write_session(db) as s:
        store_events(s, [event("1")], source="carrier-pigeon")


def test_metrics_registries_are_independent() -> None:
    a, b = create_metrics(), create_metrics()
    a.events_deduplicated.inc()
    assert a.registry.get_sample_value("events_deduplicated_total") == 1
    assert b.registry.get_sample_value("events_deduplicated_total") == 0


def _receiver(engine: Engine) -> AsyncInbox:
    inbox = async_inbox_for(engine)
    assert isinstance(inbox, AsyncInbox)
    return inbox


@pytest.mark.parametrize("receiver_pool", [False, True], ids=["engine", "receiver-async"])
def test_postgres_one_statement_stores_what_the_portable_path_stores(
    pg_url: str, tmp_path: Path, receiver_pool: bool
) -> None:
    """Postgres writes the inbox and outbox rows in one statement (service/events/inbox.py
    `PG_STORE`), through the engine or the receiver's own async connection (`AsyncInbox`); every
    column it stores matches SQLite's ORM path for the same deliveries."""

    def stored(url: str, pool: bool = False) -> tuple[list[tuple[object, ...]], list[dict[str, object]]]:
        migrate(url)
        engine = make_engine(url)
        try:
            first = [event("1"), event("2"), event("1")]
            if pool:
                receiver = _receiver(engine)

                async def deliver() -> tuple[int, int]:
                    try:
                        return await receiver.store(first, source="webhook", webhook_gid="9")
                    finally:
                        await receiver.aclose()

                assert asyncio.run(deliver()) == (2, 1)
            else:
                with write_session(engine) as s:
                    assert store_events(s, first, source="webhook", webhook_gid="9") == (2, 1)
            with write_session(engine) as s:
                assert store_events(s, [event("2"), event("3")], source="events_api") == (1, 1)
            with engine.connect() as conn:
                inbox = conn.execute(
                    select(
                        InboxEvent.id,
                        InboxEvent.dedup_key,
                        InboxEvent.source,
                        InboxEvent.webhook_gid,
                        InboxEvent.resource_gid,
                        InboxEvent.resource_type,
                        InboxEvent.action,
                        InboxEvent.payload,
                        InboxEvent.status,
                        InboxEvent.attempts,
                        InboxEvent.processed_at,
                    ).order_by(InboxEvent.id)
                ).all()
                outbox = conn.execute(
                    select(
                        OutboxMessage.inbox_id,
                        OutboxMessage.topic,
                        OutboxMessage.payload,
                        OutboxMessage.publish_attempts,
                        OutboxMessage.created_at,
                        OutboxMessage.published_at,
                    ).order_by(OutboxMessage.id)
                ).all()
                # Ids differ by backend (a Postgres sequence also spends numbers on conflicts):
                # compare each outbox row's inbox row by its place instead.
                place = {r.id: n for n, r in enumerate(inbox)}
                queued = [
                    {
                        "inbox": place[o.inbox_id],
                        "topic": o.topic,
                        "payload": {**o.payload, "inbox_id": place[o.payload["inbox_id"]]},
                        "attempts": o.publish_attempts,
                    }
                    for o in outbox
                ]
                assert all(o.created_at is not None and o.published_at is None for o in outbox)
            return [tuple(r)[1:] for r in inbox], queued
        finally:
            engine.dispose()

    assert stored(pg_url, receiver_pool) == stored(f"sqlite:///{tmp_path / 'app.db'}")


def test_a_connection_the_server_dropped_is_retried_once(pg_url: str) -> None:
    """The receiver's pool skips the per-checkout ping (issue 23); a pooled connection that
    Postgres closed meanwhile (a restart) costs one retry of the idempotent insert, not a 503."""
    import psycopg

    migrate(pg_url)
    engine = make_engine(pg_url, pre_ping=False)
    try:
        assert store_events_now(engine, [event("1")], source="webhook") == (1, 0)  # pools a connection
        with psycopg.connect(pg_url, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        assert store_events_now(engine, [event("2"), event("1")], source="webhook") == (1, 1)
        assert _counts(engine) == (2, 2)
    finally:
        engine.dispose()


def test_the_receivers_connection_is_retried_once_when_the_server_dropped_it(pg_url: str) -> None:
    """The receiver's own connection (issue 23) is not pinged before use either: a connection
    that Postgres closed (a restart) costs one retry of the idempotent insert, not a 503."""
    migrate(pg_url)
    engine = make_engine(pg_url)
    inbox = _receiver(engine)

    async def scenario() -> tuple[tuple[int, int], tuple[int, int]]:
        try:
            first = await inbox.store([event("1")], source="webhook")
            with psycopg.connect(pg_url, autocommit=True) as admin:
                admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            return first, await inbox.store([event("2"), event("1")], source="webhook")
        finally:
            await inbox.aclose()

    try:
        assert asyncio.run(scenario()) == ((1, 0), (1, 1))
        assert _counts(engine) == (2, 2)
    finally:
        engine.dispose()


def test_a_database_that_is_down_fails_the_delivery_and_the_next_one_connects() -> None:
    """Nothing listens: the delivery fails with a storage error (the receiver answers 503 and
    Asana retries) within the wait, and no connection is kept half-made."""
    from service.events.inbox_async import StorageErrors

    with __import__("socket").socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = AsyncInbox(f"postgresql://postgres@127.0.0.1:{port}/postgres", wait_s=2.0)

    async def scenario() -> None:
        with pytest.raises(StorageErrors):
            await inbox.store([event("1")], source="webhook")
        assert inbox._idle == []
        with pytest.raises(StorageErrors):  # tried again for the next delivery, not stuck
            await inbox.store([event("2")], source="webhook")
        await inbox.aclose()

    asyncio.run(scenario())


@pytest.mark.parametrize("receiver_pool", [False, True], ids=["engine", "receiver-async"])
def test_control_characters_in_an_event_are_stored_cleaned_on_postgres(
    pg_url: str, receiver_pool: bool
) -> None:
    """Postgres refuses NUL in JSONB; an event carrying one (or a lone surrogate) used to fail the
    insert, a 503 Asana retries forever. It is stored with U+FFFD, as every other table does."""
    migrate(pg_url)
    engine = make_engine(pg_url)
    odd = {**event("1"), "change": {"field": "na\x00me\x1b", "action": "changed", "new_value": "\ud800x"}}

    async def through_receiver() -> tuple[int, int]:
        inbox = _receiver(engine)
        try:
            return await inbox.store([odd], source="webhook")
        finally:
            await inbox.aclose()

    try:
        stored = (
            asyncio.run(through_receiver())
            if receiver_pool
            else store_events_now(engine, [odd], source="webhook")
        )
        assert stored == (1, 0)
        with engine.connect() as conn:
            payload = conn.execute(select(InboxEvent.payload)).scalar_one()
        assert payload["change"]["field"] == "na\ufffdme\ufffd"
        assert payload["change"]["new_value"] == "\ufffdx"
        assert payload["resource"] == odd["resource"]
    finally:
        engine.dispose()


def test_deliveries_that_arrive_together_share_one_statement(pg_url: str) -> None:
    """Group commit (issue 23): while one statement is in flight, the deliveries that arrive queue
    and the next statement writes them all; each caller still gets its own counts, an event sent
    in two deliveries is stored once (by the first), and a failed statement fails exactly the
    deliveries it carried."""
    migrate(pg_url)
    engine = make_engine(pg_url)
    inbox = AsyncInbox(_receiver(engine)._url, writers=1)
    real = inbox._execute

    async def scenario() -> None:
        release = asyncio.Event()
        first = True

        async def first_waits(rows: list[dict[str, object]], link: Any) -> list[str]:
            nonlocal first
            if first:  # the first statement waits until every other delivery queued
                first = False
                await release.wait()
            return await real(rows, link)

        inbox._execute = first_waits  # type: ignore[method-assign]
        leader = asyncio.create_task(inbox.store([event("0")], source="webhook"))
        await asyncio.sleep(0.05)  # the writer holds the first statement
        # Deliveries 1..15 each carry a new event and event "0", which delivery 0 also sends.
        others = [
            asyncio.create_task(inbox.store([event(str(n)), event("0")], source="webhook"))
            for n in range(1, 16)
        ]
        await asyncio.sleep(0.05)
        assert len(inbox._queue) == 15
        release.set()
        assert await leader == (1, 0)
        assert [await o for o in others] == [(1, 1)] * 15
        assert (inbox.statements, inbox.deliveries) == (2, 16)

        async def broken(rows: list[dict[str, object]], link: Any) -> list[str]:
            raise psycopg.errors.UndefinedTable("outbox is gone")

        inbox._execute = broken  # type: ignore[method-assign]
        failing = [asyncio.create_task(inbox.store([event(str(n))], source="webhook")) for n in (98, 99)]
        for task in failing:
            with pytest.raises(psycopg.errors.UndefinedTable):
                await task
        inbox._execute = real  # type: ignore[method-assign]
        assert await inbox.store([event("99")], source="webhook") == (1, 0)  # nothing half-written
        await inbox.aclose()

    try:
        asyncio.run(scenario())
        assert _counts(engine) == (17, 17)
    finally:
        engine.dispose()


def test_a_new_event_loop_gets_a_new_connection(pg_url: str) -> None:
    """A test client started again runs a new loop: the connection of the old one is closed, not
    awaited from the wrong loop, and deliveries go on."""
    migrate(pg_url)
    engine = make_engine(pg_url)
    inbox = _receiver(engine)
    try:
        assert asyncio.run(inbox.store([event("1")], source="webhook")) == (1, 0)
        [old] = inbox._idle
        assert not old.closed
        assert asyncio.run(inbox.store([event("2")], source="webhook")) == (1, 0)
        assert old.closed and inbox._idle[0] is not old
        asyncio.run(inbox.aclose())  # from yet another loop: closed without awaiting
        assert inbox._idle == []
        assert _counts(engine) == (2, 2)
    finally:
        engine.dispose()


def test_a_slow_commit_does_not_hold_every_other_delivery_back(pg_url: str) -> None:
    """Two writers: while one statement waits for its commit, the next delivery is written on
    the other connection and answered first."""
    migrate(pg_url)
    engine = make_engine(pg_url)
    inbox = AsyncInbox(_receiver(engine)._url, writers=2)
    real = inbox._execute
    release = asyncio.Event()

    async def slow_first(rows: list[dict[str, object]], link: Any) -> list[str]:
        if any(r["resource_gid"] == "1" for r in rows):
            await release.wait()
        return await real(rows, link)

    inbox._execute = slow_first  # type: ignore[method-assign]

    async def scenario() -> None:
        held = asyncio.create_task(inbox.store([event("1")], source="webhook"))
        await asyncio.sleep(0.05)
        assert await asyncio.wait_for(inbox.store([event("2")], source="webhook"), 10) == (1, 0)
        assert not held.done()
        release.set()
        assert await held == (1, 0)
        assert len(inbox._idle) == 2
        await inbox.aclose()

    try:
        asyncio.run(scenario())
        assert _counts(engine) == (2, 2)
    finally:
        engine.dispose()
