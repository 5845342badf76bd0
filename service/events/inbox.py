"""Store Asana events durably, exactly once per distinct event, with an outbox row to publish.

Asana events carry no id, and the same event can reach us from a webhook delivery, a webhook
redelivery, or the events API (the reconciliation poller). `dedup_key` hashes the fields that
identify an event after reducing every object reference to its gid and every timestamp to one
UTC format, so all three sources agree on the key. `store_events` inserts with
`ON CONFLICT DO NOTHING` on that key and writes one outbox row per *new* inbox row, inside the
caller's transaction: either both are stored or neither.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from service.db.audit import canonical_json
from service.db.engine import dialect_insert, write_session
from service.db.events import EventSource, InboxEvent, InboxStatus, OutboxMessage
from service.db.text import clean_value

PROCESS_TOPIC = "event.process"
_CHANGE_VALUES = ("new_value", "added_value", "removed_value")

EventLike = Mapping[str, Any] | BaseModel


def _as_dict(event: EventLike) -> dict[str, Any]:
    if isinstance(event, BaseModel):
        return event.model_dump(mode="json", exclude_none=True, by_alias=True)
    # Round-trip through JSON so datetimes and the like become what the JSON column stores.
    loaded: dict[str, Any] = json.loads(json.dumps(dict(event), default=str))
    return loaded


def _ref(value: Any) -> Any:
    """A compact reference reduced to its gid (gids are globally unique in Asana)."""
    if isinstance(value, Mapping) and "gid" in value:
        return str(value["gid"])
    return value


def _timestamp(value: Any) -> Any:
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    else:
        return value
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _identity(event: Mapping[str, Any]) -> dict[str, Any]:
    change = event.get("change")
    change_id: dict[str, Any] | None = None
    if isinstance(change, Mapping):
        change_id = {"field": change.get("field"), "action": change.get("action")}
        for name in _CHANGE_VALUES:
            if change.get(name) is not None:
                change_id[name] = _ref(change[name])
    return {
        "user": _ref(event.get("user")),
        "created_at": _timestamp(event.get("created_at")),
        "action": event.get("action"),
        "resource": _ref(event.get("resource")),
        "parent": _ref(event.get("parent")),
        "change": change_id,
    }


def dedup_key(event: EventLike) -> str:
    """sha256 (hex) of the canonical identity of one Asana event; equal across delivery paths."""
    data = event if isinstance(event, Mapping) else _as_dict(event)
    return hashlib.sha256(canonical_json(_identity(data)).encode("ascii")).hexdigest()


def _resource_field(event: Mapping[str, Any], name: str) -> str | None:
    resource = event.get("resource")
    if isinstance(resource, Mapping) and resource.get(name) is not None:
        return str(resource[name])[:64]
    return None


# Postgres: the inbox rows and their outbox rows in one statement (one round trip, compiled once by
# the server's planner, no ORM work per delivery): the receiver's cost per delivery is what bounds
# webhook ingest (issue 23: 2.6 ms of CPU per delivery through the ORM, most of the receiver's).
# Same rows as the portable path below; `tests/api/test_inbox.py` compares them.
PG_STORE = """
WITH u AS (
    SELECT x.e ->> 'k' AS k, x.e ->> 's' AS s, x.e ->> 'w' AS w, x.e ->> 'g' AS g,
           x.e ->> 't' AS t, x.e ->> 'a' AS a, x.e -> 'p' AS p, x.n
    FROM jsonb_array_elements(%(rows)s::jsonb) WITH ORDINALITY AS x(e, n)
), ins AS (
    INSERT INTO inbox_events
        (dedup_key, source, webhook_gid, resource_gid, resource_type, action, payload,
         received_at, status, attempts)
    SELECT u.k, u.s, u.w, u.g, u.t, u.a, u.p, %(now)s, %(status)s, 0
    FROM u ORDER BY u.n
    ON CONFLICT (dedup_key) DO NOTHING
    RETURNING id, dedup_key, source, resource_gid, resource_type, action
), queued AS (
    INSERT INTO outbox (inbox_id, topic, payload, created_at, publish_attempts)
    SELECT id, %(topic)s,
           jsonb_build_object('inbox_id', id, 'dedup_key', dedup_key, 'source', source,
                              'resource_gid', resource_gid, 'resource_type', resource_type,
                              'action', action),
           %(now)s, 0
    FROM ins ORDER BY id
    RETURNING inbox_id
)
SELECT ins.dedup_key FROM ins JOIN queued ON queued.inbox_id = ins.id
"""


def pg_store_parameters(rows: list[dict[str, Any]], now: datetime) -> dict[str, Any]:
    """`PG_STORE`'s parameters for inbox rows (`inbox_rows`; of one delivery or several). The rows
    travel as one JSON document: psycopg escapes every element of a text[] parameter with a
    regular expression (0.2 ms per delivery, issue 23). Postgres refuses NUL in JSONB, and
    `json.dumps` writes control characters and lone surrogates as \\u escapes, so a document with
    any \\u escape is rebuilt from cleaned values (the engine's own parameter cleaning cannot see
    inside the escaped text)."""
    items = [
        {
            "k": r["dedup_key"],
            "s": r["source"],
            "w": r["webhook_gid"],
            "g": r["resource_gid"],
            "t": r["resource_type"],
            "a": r["action"],
            "p": r["payload"],
        }
        for r in rows
    ]
    document = json.dumps(items, separators=(",", ":"))
    if "\\u" in document:
        document = json.dumps(clean_value(items), separators=(",", ":"))
    return {"now": now, "status": InboxStatus.NEW.value, "topic": PROCESS_TOPIC, "rows": document}


def _store_pg(conn: Connection, rows: list[dict[str, Any]], now: datetime) -> int:
    """How many of `rows` were new (stored, with their outbox rows)."""
    # exec_driver_sql: the driver's own statement, errors still SQLAlchemy's (the receiver answers
    # 503 "storage unavailable" on those, and Asana retries).
    return len(conn.exec_driver_sql(PG_STORE, pg_store_parameters(rows, now)).all())


def store_events(
    session: Session,
    events: Iterable[EventLike],
    *,
    source: str,
    webhook_gid: str | None = None,
) -> tuple[int, int]:
    """Insert events into the inbox (duplicates are no-ops) plus an outbox row per new one.

    Runs inside `session`'s transaction; the caller commits (e.g. `write_session`). Returns
    `(inserted, duplicates)`, duplicates counting both repeats within `events` and rows already
    stored.
    """
    source = EventSource(source).value
    now = datetime.now(UTC)
    rows, total = inbox_rows(events, source, webhook_gid, now)
    if not rows:
        return 0, total
    if session.get_bind().dialect.name == "postgresql":
        created_count = _store_pg(session.connection(), list(rows.values()), now)
        return created_count, total - created_count
    return _store_portable(session, rows, source, now, total)


def store_events_now(
    engine: Engine, events: Iterable[EventLike], *, source: str, webhook_gid: str | None = None
) -> tuple[int, int]:
    """`store_events` in a transaction of its own, committed before it returns.

    On Postgres the one statement runs in autocommit mode: a single statement is atomic by itself
    (all its rows or none), and BEGIN and COMMIT would be two more round trips per webhook delivery
    (issue 23: ingest against its floor). Elsewhere: `write_session`."""
    if engine.dialect.name != "postgresql":
        with write_session(engine) as session:
            return store_events(session, events, source=source, webhook_gid=webhook_gid)
    source = EventSource(source).value
    now = datetime.now(UTC)
    rows, total = inbox_rows(events, source, webhook_gid, now)
    if not rows:
        return 0, total
    for attempt in (1, 2):
        try:
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                created_count = _store_pg(conn, list(rows.values()), now)
            return created_count, total - created_count
        except DBAPIError as err:
            # A pooled connection the server dropped (a restart): the insert is idempotent (dedup
            # keys), so it is sent once more on a fresh connection; anything else is raised.
            if attempt == 2 or not err.connection_invalidated:
                raise
    raise AssertionError("unreachable")


def inbox_rows(
    events: Iterable[EventLike], source: str, webhook_gid: str | None, now: datetime, *, decoded: bool = False
) -> tuple[dict[str, dict[str, Any]], int]:
    """The inbox rows of `events` by dedup key (repeats within the delivery dropped), and how many
    events there were. `decoded`: the events are dicts just decoded from JSON, stored as they are
    (no copy through JSON)."""
    rows: dict[str, dict[str, Any]] = {}
    total = 0
    for event in events:
        total += 1
        data = event if decoded and isinstance(event, dict) else _as_dict(event)
        key = dedup_key(data)
        if key in rows:
            continue
        action = data.get("action")
        rows[key] = {
            "dedup_key": key,
            "source": source,
            "webhook_gid": webhook_gid,
            "resource_gid": _resource_field(data, "gid"),
            "resource_type": _resource_field(data, "resource_type"),
            "action": str(action)[:32] if action is not None else None,
            "payload": data,
            "received_at": now,
            "status": InboxStatus.NEW.value,
            "attempts": 0,
        }
    return rows, total


def _store_portable(
    session: Session, rows: dict[str, dict[str, Any]], source: str, now: datetime, total: int
) -> tuple[int, int]:
    insert = dialect_insert(session)
    stmt = (
        insert(InboxEvent)
        .values(list(rows.values()))
        .on_conflict_do_nothing(index_elements=[InboxEvent.dedup_key])
        .returning(InboxEvent.id, InboxEvent.dedup_key)
    )
    created = session.execute(stmt).all()
    if created:
        outbox = [
            {
                "inbox_id": inbox_id,
                "topic": PROCESS_TOPIC,
                "payload": {
                    "inbox_id": inbox_id,
                    "dedup_key": key,
                    "source": source,
                    "resource_gid": rows[key]["resource_gid"],
                    "resource_type": rows[key]["resource_type"],
                    "action": rows[key]["action"],
                },
                "created_at": now,
                "publish_attempts": 0,
            }
            for inbox_id, key in sorted(created)
        ]
        session.execute(dialect_insert(session)(OutboxMessage).values(outbox))
    return len(created), total - len(created)
