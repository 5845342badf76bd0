"""The webhook receiver's own Postgres path: the one-statement inbox insert on a plain psycopg
pool of autocommit connections, with deliveries that arrive together written by one statement.

Why not the app's SQLAlchemy engine: per delivery, a checkout that switches the connection to
autocommit and back and a reset on return cost about 0.45 ms of the receiver's CPU, more than the
statement itself (issue 23: ingest against a durable-INSERT floor that pays none of it). The
statement is the same (`inbox.PG_STORE`), the rows are the same (`tests/api/test_inbox.py`), and
every answer still follows a commit: a single statement in autocommit mode is its own transaction.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout
from sqlalchemy import Engine

from service.db.events import EventSource
from service.events.inbox import PG_STORE, EventLike, inbox_rows, pg_store_parameters, store_events_now

# What the receiver answers 503 "storage unavailable" on (with SQLAlchemy's errors).
StorageErrors = (psycopg.Error, PoolTimeout)


class Inbox(Protocol):
    """Where webhook deliveries are stored: `store` commits before it returns."""

    def store(
        self, events: Iterable[EventLike], *, source: str, webhook_gid: str | None = None
    ) -> tuple[int, int]: ...

    def close(self) -> None: ...


# The most deliveries one statement takes (a burst beyond it waits for the next statement).
MAX_BATCH = 64


@dataclass(eq=False)
class _Delivery:
    """One delivery's rows waiting for a statement, and what became of them."""

    rows: dict[str, dict[str, Any]]  # by dedup key
    total: int
    done: threading.Event = field(default_factory=threading.Event)
    finished: bool = False
    inserted: int = 0
    error: Exception | None = None


class InboxPool:
    """`store_events_now` for Postgres over a psycopg pool without a ping per checkout, with the
    deliveries that arrive together written by one statement (group commit).

    One delivery at a time, each statement costs Postgres about 0.3 ms of CPU and a WAL flush,
    and the receiver its round trip. Here the first delivery to arrive writes (it "leads"); the
    ones that arrive meanwhile queue, and the leader's next statement takes them all (up to
    `MAX_BATCH`). A leader whose own rows are written hands the lead to the oldest waiting delivery
    and answers, so nobody waits for more than the statement in flight and its own. Each answer
    still follows the commit of its own rows; a failed statement fails every delivery in it (503:
    Asana retries them, and the dedup keys make a retry harmless). A pooled connection the server
    dropped (a restart) costs one retry of the statement."""

    def __init__(self, url: str, *, prepare: bool = True, max_size: int = 4, wait_s: float = 5.0) -> None:
        self._wait_s = wait_s
        self._lock = threading.Lock()
        self._queue: list[_Delivery] = []
        self._writing = False
        self.statements = 0  # how many statements wrote how many deliveries (for tests and diagnostics)
        self.deliveries = 0
        self._pool = ConnectionPool(
            url,
            min_size=1,
            max_size=max_size,
            # Prepared after its first use: Postgres then skips parsing and planning the two-insert
            # statement, 0.54 -> 0.27 ms of server CPU per statement (`prepare=False` behind
            # PgBouncer < 1.21 in transaction mode, as the app engine always is).
            kwargs={
                "autocommit": True,
                "prepare_threshold": 0 if prepare else None,
                "application_name": "sprintpilot",
            },
            open=False,
            name="sprintpilot-inbox",
        )
        self._opened = False

    def store(
        self, events: Iterable[EventLike], *, source: str, webhook_gid: str | None = None
    ) -> tuple[int, int]:
        """(inserted, duplicates), committed before it returns. `events`: as decoded from a JSON
        delivery (not copied again)."""
        source = EventSource(source).value
        rows, total = inbox_rows(events, source, webhook_gid, datetime.now(UTC), decoded=True)
        if not rows:
            return 0, total
        mine = _Delivery(rows, total)
        with self._lock:
            self._queue.append(mine)
            lead = not self._writing
            self._writing = True
        if not lead:
            mine.done.wait()
        if not mine.finished:  # leading from the start, or woken unfinished: handed the lead
            self._lead(mine)
        if mine.error is not None:
            raise mine.error
        return mine.inserted, mine.total - mine.inserted

    def _lead(self, mine: _Delivery) -> None:
        while True:
            with self._lock:
                batch = self._queue[:MAX_BATCH]
                del self._queue[:MAX_BATCH]
            self._write(batch)
            with self._lock:
                if not self._queue:
                    self._writing = False
                    return
                if mine.finished:
                    self._queue[0].done.set()  # not finished, so it leads (see store)
                    return

    def _write(self, batch: list[_Delivery]) -> None:
        """One statement for the batch; never raises (each delivery gets its outcome)."""
        merged: dict[str, dict[str, Any]] = {}
        owner: dict[str, _Delivery] = {}
        for delivery in batch:
            for key, row in delivery.rows.items():
                if key not in merged:  # the same event in two deliveries: the first one stores it
                    merged[key] = row
                    owner[key] = delivery
        try:
            for key in self._execute(list(merged.values())):
                owner[key].inserted += 1
        except Exception as err:  # noqa: BLE001 - handed to each waiting delivery, raised there
            for delivery in batch:
                delivery.error = err
        finally:
            self.statements += 1
            self.deliveries += len(batch)
            for delivery in batch:
                delivery.finished = True
                delivery.done.set()

    def _execute(self, rows: list[dict[str, Any]]) -> list[str]:
        """The dedup keys stored new."""
        parameters = pg_store_parameters(rows, datetime.now(UTC))
        if not self._opened:  # only the leader gets here, one at a time
            # Opened on the first delivery (an app built and never served starts no threads);
            # connections are made in the pool's background threads, so a database that is down
            # only makes deliveries wait `wait_s` and answer 503 until it is back.
            self._pool.open(wait=False)
            self._opened = True
        for attempt in (1, 2):
            try:
                with self._pool.connection(timeout=self._wait_s) as conn:
                    return [str(r[0]) for r in conn.execute(PG_STORE, parameters).fetchall()]
            except psycopg.OperationalError:
                # The pool drops the broken connection; its idle ones died with it (a server
                # restart), so they are checked before the one retry (the keys make it harmless).
                if attempt == 2:
                    raise
                self._pool.check()
        raise AssertionError("unreachable")

    def close(self) -> None:
        self._pool.close()


class EngineInbox:
    """The same interface over an engine (SQLite, or a caller's own engine)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def store(
        self, events: Iterable[EventLike], *, source: str, webhook_gid: str | None = None
    ) -> tuple[int, int]:
        return store_events_now(self._engine, events, source=source, webhook_gid=webhook_gid)

    def close(self) -> None:
        """The engine belongs to whoever made it."""


def inbox_for(engine: Engine, *, prepare: bool = True) -> InboxPool | EngineInbox:
    """A pool of its own on Postgres, else the engine itself."""
    if engine.dialect.name == "postgresql":
        url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        return InboxPool(url, prepare=prepare)
    return EngineInbox(engine)
