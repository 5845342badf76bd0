"""`dedup_key` and `store_events`: one inbox row per distinct event, whatever path it came by."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from service.db import make_engine, migrate, write_session
from service.db.events import InboxEvent, OutboxMessage
from service.events.inbox import dedup_key, store_events, store_events_now
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


def test_postgres_one_statement_stores_what_the_portable_path_stores(pg_url: str, tmp_path: Path) -> None:
    """Postgres writes the inbox and outbox rows in one statement (service/events/inbox.py
    `_PG_STORE`); every column it stores matches SQLite's ORM path for the same deliveries."""

    def stored(url: str) -> tuple[list[tuple[object, ...]], list[dict[str, object]]]:
        migrate(url)
        engine = make_engine(url)
        try:
            with write_session(engine) as s:
                assert store_events(
                    s, [event("1"), event("2"), event("1")], source="webhook", webhook_gid="9"
                ) == (
                    2,
                    1,
                )
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

    assert stored(pg_url) == stored(f"sqlite:///{tmp_path / 'app.db'}")


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
