"""The webhook receiver's own Postgres path: the one-statement inbox insert (`inbox.PG_STORE`) on
an async psycopg connection in the server's event loop, with the deliveries that arrive together
written by one statement (group commit).

Why not the app's SQLAlchemy engine in a worker thread: per delivery, the engine's checkout (an
autocommit switch and a reset) cost about 0.45 ms of the receiver's CPU, and handing the work to a
thread and waking the caller again (two futex wake-ups) about a quarter of what was left (issue
23: ingest against a durable-INSERT floor). In the loop, a delivery that waits for its statement is
a future, not a blocked thread. The statement is the same, the rows are the same
(`tests/api/test_inbox.py`), and every answer still follows a commit: a single statement in
autocommit mode is its own transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg
from sqlalchemy import Engine

from service.db.events import EventSource
from service.events.inbox import PG_STORE, EventLike, inbox_rows, pg_store_parameters

# What the receiver answers 503 "storage unavailable" on (besides SQLAlchemy's errors).
StorageErrors = (psycopg.Error, OSError, TimeoutError)

# The most deliveries one statement takes (a burst beyond it waits for the next statement).
MAX_BATCH = 64
# Statements in flight at once, each on its own connection (see `AsyncInbox._drain`). One batches
# best: on the quiet 2-core machine the receiver/floor ratio was 0.96-1.07 with one writer and
# 0.83-0.88 with two (smaller batches, more Postgres CPU per delivery); more writers suit storage
# whose flush to disk is slow against the CPU.
WRITERS = 1


@dataclass(eq=False)
class _Pending:
    """One delivery's rows waiting for a statement; `done` gets how many of them were new."""

    rows: dict[str, dict[str, Any]]  # by dedup key
    total: int
    done: asyncio.Future[int]
    inserted: int = 0


@dataclass(eq=False)
class _Link:
    """A writer's connection (None until it makes one, or after it broke)."""

    conn: psycopg.AsyncConnection[Any] | None


class AsyncInbox:
    """`store_events_now` for Postgres, awaited in the event loop, with group commit.

    A delivery that arrives when fewer than `writers` statements are in flight starts a writer
    task; the deliveries that arrive while they are busy queue, and the next statement takes them
    all (up to `MAX_BATCH`), so nobody waits for more than the statements in flight and its own.
    Each answer follows the commit of its own rows; a failed statement fails every delivery in it
    (503: Asana retries them, and the dedup keys make a retry harmless). A connection the server
    dropped (a restart) costs one retry of the statement on a new connection.

    Connections are made by the first deliveries in the loop that serves them (an app built and
    never served connects to nothing); a different loop (a test client started again) gets new ones.
    """

    def __init__(
        self, url: str, *, prepare: bool = True, wait_s: float = 5.0, writers: int = WRITERS
    ) -> None:
        self._url = url
        self._prepare = prepare
        self._wait_s = wait_s
        self._max_writers = writers
        self._queue: list[_Pending] = []
        self._writers = 0
        self._idle: list[psycopg.AsyncConnection[Any]] = []  # connections of writers that finished
        self._loop: asyncio.AbstractEventLoop | None = None
        self.statements = 0  # how many statements wrote how many deliveries (tests, diagnostics)
        self.deliveries = 0

    async def store(
        self, events: Iterable[EventLike], *, source: str, webhook_gid: str | None = None
    ) -> tuple[int, int]:
        """(inserted, duplicates), committed before it returns. `events`: as decoded from a JSON
        delivery (not copied again)."""
        source = EventSource(source).value
        rows, total = inbox_rows(events, source, webhook_gid, datetime.now(UTC), decoded=True)
        if not rows:
            return 0, total
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._rebind(loop)
        mine = _Pending(rows, total, loop.create_future())
        self._queue.append(mine)
        if self._writers < self._max_writers:
            self._writers += 1
            loop.create_task(self._drain())
        # Shielded: a caller that goes away does not cancel what other deliveries wait for.
        inserted = await asyncio.shield(mine.done)
        return inserted, total - inserted

    def _rebind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Serve from `loop`: connections (or writers) of another loop cannot be awaited here."""
        self._finish_all()
        self._writers = 0
        self._queue = []
        self._loop = loop

    def _finish_all(self) -> None:
        idle, self._idle = self._idle, []
        for conn in idle:
            if not conn.closed:
                conn.pgconn.finish()  # synchronous: the loop it belongs to may be gone

    async def _drain(self) -> None:
        """One writer: statements for whatever waits, on a connection of its own, until nothing
        does. With more than one writer (`writers`), they run side by side, so one commit's flush
        to disk does not hold every other delivery back; each takes all that waits when it starts."""
        link = _Link(self._idle.pop() if self._idle else None)
        try:
            while self._queue:
                batch = self._queue[:MAX_BATCH]
                del self._queue[:MAX_BATCH]
                await self._write(batch, link)
        finally:
            self._writers -= 1
            if link.conn is not None and not link.conn.closed:
                self._idle.append(link.conn)

    async def _write(self, batch: list[_Pending], link: _Link) -> None:
        """One statement for the batch; never raises (each delivery gets its outcome)."""
        merged: dict[str, dict[str, Any]] = {}
        owner: dict[str, _Pending] = {}
        for pending in batch:
            for key, row in pending.rows.items():
                if key not in merged:  # the same event in two deliveries: the first one stores it
                    merged[key] = row
                    owner[key] = pending
        try:
            for key in await self._execute(list(merged.values()), link):
                owner[key].inserted += 1
        except Exception as err:  # noqa: BLE001 - handed to each waiting delivery, raised there
            for pending in batch:
                if not pending.done.done():
                    pending.done.set_exception(err)
        else:
            for pending in batch:
                if not pending.done.done():
                    pending.done.set_result(pending.inserted)
        finally:
            self.statements += 1
            self.deliveries += len(batch)

    async def _execute(self, rows: list[dict[str, Any]], link: _Link) -> list[str]:
        """The dedup keys stored new, on the writer's connection (made when it has none)."""
        parameters = pg_store_parameters(rows, datetime.now(UTC))
        for attempt in (1, 2):
            try:
                if link.conn is None or link.conn.closed:
                    link.conn = None
                    link.conn = await self._connect()
                cursor = await link.conn.execute(PG_STORE, parameters)
                return [str(r[0]) for r in await cursor.fetchall()]
            except psycopg.OperationalError:
                # The connection is gone (a server restart): the insert is idempotent (dedup keys),
                # so it is sent once more on a new connection; a database that is down fails both.
                conn, link.conn = link.conn, None
                await _close(conn)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def _connect(self) -> psycopg.AsyncConnection[Any]:
        return await asyncio.wait_for(
            psycopg.AsyncConnection.connect(
                self._url,
                autocommit=True,
                # Prepared after its first use: Postgres then skips parsing and planning the
                # two-insert statement, 0.54 -> 0.27 ms of server CPU per statement
                # (`prepare=False` behind PgBouncer < 1.21 in transaction mode).
                prepare_threshold=0 if self._prepare else None,
                application_name="sprintpilot",
                connect_timeout=max(1, int(self._wait_s)),
            ),
            self._wait_s,
        )

    async def aclose(self) -> None:
        """Close the connections (at the app's shutdown, in the loop that served them)."""
        if self._loop is asyncio.get_running_loop():
            idle, self._idle = self._idle, []
            for conn in idle:
                await _close(conn)
        else:
            self._finish_all()


async def _close(conn: psycopg.AsyncConnection[Any] | None) -> None:
    if conn is not None:
        with contextlib.suppress(psycopg.Error):  # already broken: nothing more to release
            await conn.close()


def async_inbox_for(engine: Engine, *, prepare: bool = True) -> AsyncInbox | None:
    """The receiver's own connection on Postgres; elsewhere (SQLite) the engine stores deliveries."""
    if engine.dialect.name != "postgresql":
        return None
    url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    return AsyncInbox(url, prepare=prepare)
