"""The LangGraph checkpointer for the supervisor graph: Postgres in production, SQLite embedded.

Postgres uses one `psycopg_pool.ConnectionPool` per process (psycopg connections cannot cross a
fork), built with `prepare_threshold=None` so it also works behind pgbouncer in transaction mode,
and health-checked on checkout because idle connections die during long model calls. Celery's
`worker_process_init` must call `reset_pool_after_fork()` so a child never touches its parent's
sockets. `.setup()` (the saver's own migrations) runs once per database per process.
"""

from __future__ import annotations

import atexit
import importlib
import inspect
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.postgres import PostgresSaver
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.checkpoint.sqlite import SqliteSaver
from psycopg import Connection
from psycopg.rows import DictRow, dict_row
from psycopg_pool import ConnectionPool
from pydantic import BaseModel

from service.settings import Settings, is_postgres, psycopg_url, sqlite_path

# Modules whose pydantic models and enums may appear in graph state. Modules that do not exist
# (yet) are skipped, so the list can name state modules owned by other packages.
STATE_TYPE_MODULES: tuple[str, ...] = ("agents.proposal", "graphs.ports", "graphs.state")

_lock = threading.Lock()
_pools: dict[str, ConnectionPool[Connection[DictRow]]] = {}
_pool_pid: int | None = None
_setup_done: set[str] = set()
_atexit_registered = False


def state_types(modules: Iterable[str] = STATE_TYPE_MODULES) -> list[type]:
    """Pydantic models and enums defined in `modules`: the types checkpoints may rebuild."""
    found: list[type] = []
    for name in modules:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as err:
            if err.name != name:
                raise  # the module exists but one of its imports is broken: surface that
            continue
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if obj.__module__ == module.__name__ and issubclass(obj, BaseModel | Enum):
                found.append(obj)
    return found


def make_serializer(extra_types: Iterable[type] = ()) -> JsonPlusSerializer:
    """A serializer that rebuilds our own types and nothing else beyond langgraph's safe list.

    An explicit allowlist is strict mode: an unknown class in a checkpoint comes back as its
    plain data instead of being imported and called (a tampered checkpoint cannot run code).
    """
    return JsonPlusSerializer(allowed_msgpack_modules=[*state_types(), *extra_types])


def checkpoint_sqlite_path(settings: Settings) -> Path | None:
    """The checkpoint file next to the SQLite app DB (`x.db` -> `x.checkpoints.db`); None in memory."""
    app_db = sqlite_path(settings)
    if app_db is None:
        return None
    return app_db.with_name(f"{app_db.stem}.checkpoints{app_db.suffix or '.db'}")


def _pool_for(conninfo: str, max_size: int) -> ConnectionPool[Connection[DictRow]]:
    global _pool_pid, _atexit_registered
    with _lock:
        if _pool_pid != os.getpid():
            # Inherited from a parent process: forget, never close (see reset_pool_after_fork).
            _pools.clear()
            _setup_done.clear()
            _pool_pid = os.getpid()
        pool = _pools.get(conninfo)
        if pool is None or pool.closed:
            pool = ConnectionPool(
                conninfo,
                connection_class=Connection[DictRow],
                min_size=1,
                max_size=max_size,
                max_idle=300,
                max_lifetime=1800,
                kwargs={
                    "autocommit": True,
                    "row_factory": dict_row,
                    "prepare_threshold": None,
                    "application_name": "sprintpilot-checkpoints",
                },
                check=ConnectionPool.check_connection,
                name="sprintpilot-checkpoints",
                open=True,
            )
            _pools[conninfo] = pool
            if not _atexit_registered:
                atexit.register(close_pools)
                _atexit_registered = True
        return pool


def _setup_once(key: str, saver: PostgresSaver | SqliteSaver) -> None:
    with _lock:
        if key in _setup_done:
            return
    saver.setup()
    with _lock:
        _setup_done.add(key)


@contextmanager
def open_checkpointer(
    settings: Settings, *, extra_types: Iterable[type] = ()
) -> Iterator[BaseCheckpointSaver[str]]:
    """Yield a ready checkpointer for `settings.database_url`'s backend.

    Postgres savers share the process-wide pool (left open on exit, closed by `close_pools()`
    or at interpreter exit); a SQLite saver owns its connection and closes it on exit.
    """
    serde = make_serializer(extra_types)
    if is_postgres(settings):
        conninfo = psycopg_url(settings)
        pool = _pool_for(conninfo, settings.checkpoint_pool_max_size)
        pg_saver = PostgresSaver(pool, serde=serde)
        _setup_once(conninfo, pg_saver)
        yield pg_saver
        return

    path = checkpoint_sqlite_path(settings)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    # The saver serialises access with its own lock, so sharing across threads is safe.
    conn = sqlite3.connect(":memory:" if path is None else str(path), check_same_thread=False)
    try:
        sqlite_saver = SqliteSaver(conn, serde=serde)
        sqlite_saver.setup()
        yield sqlite_saver
    finally:
        conn.close()


def reset_pool_after_fork() -> None:
    """Celery `worker_process_init` hook: drop pools inherited from the parent process.

    The inherited pool's connections share sockets with the parent, so they are discarded
    without being closed (closing would end the parent's sessions); psycopg does not finish
    a connection from a process other than the one that opened it.
    """
    global _pool_pid
    with _lock:
        _pools.clear()
        _setup_done.clear()
        _pool_pid = os.getpid()


def close_pools() -> None:
    """Close this process's checkpoint pools (shutdown, tests)."""
    with _lock:
        pools = list(_pools.values()) if _pool_pid == os.getpid() else []
        _pools.clear()
        _setup_done.clear()
    for pool in pools:
        pool.close()
