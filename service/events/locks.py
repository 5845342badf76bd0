"""Per-thread run locks: at most one run of a LangGraph thread at a time, across processes.

Postgres: a session-level advisory lock on a dedicated connection (never a pooled one shared with
other work), keyed by a stable 64-bit hash of the thread id; the lock dies with the connection, so
a killed worker never leaves a thread locked. SQLite (embedded, one process): a process-local lock.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, text

from tools.errors import ConflictError


class ThreadLocked(ConflictError, RuntimeError):
    """Another run holds this thread's lock (transient: retry later)."""


def lock_key(thread_id: str) -> int:
    """A signed 64-bit advisory-lock key from the thread id (Postgres takes a bigint)."""
    digest = hashlib.sha256(f"sprintpilot-thread:{thread_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


_local_guard = threading.Lock()
_local_locks: dict[str, threading.Lock] = {}


def _local_lock(thread_id: str) -> threading.Lock:
    with _local_guard:
        return _local_locks.setdefault(thread_id, threading.Lock())


# Locks this Python thread holds, so a path that already holds a thread's lock (the approvals
# sweep) can call one that takes it (`decide`) without deadlocking on itself.
_held = threading.local()


def _held_here() -> set[str]:
    held: set[str] | None = getattr(_held, "ids", None)
    if held is None:
        held = _held.ids = set()
    return held


@contextmanager
def thread_lock(
    engine: Engine, thread_id: str, *, wait_s: float = 0.0, poll_s: float = 0.1
) -> Iterator[None]:
    """Hold the run lock of `thread_id`; raise ThreadLocked when not obtained within `wait_s`.

    Re-entrant within one Python thread: an inner call for a lock this thread holds just yields.
    """
    held = _held_here()
    if thread_id in held:
        yield
        return
    with _acquire(engine, thread_id, wait_s=wait_s, poll_s=poll_s):
        held.add(thread_id)
        try:
            yield
        finally:
            held.discard(thread_id)


@contextmanager
def _acquire(engine: Engine, thread_id: str, *, wait_s: float, poll_s: float) -> Iterator[None]:
    deadline = time.monotonic() + wait_s
    if engine.dialect.name != "postgresql":
        lock = _local_lock(thread_id)
        if not lock.acquire(timeout=wait_s) if wait_s > 0 else not lock.acquire(blocking=False):
            raise ThreadLocked(f"thread {thread_id} is running elsewhere")
        try:
            yield
        finally:
            lock.release()
        return

    key = lock_key(thread_id)
    # A dedicated connection in autocommit: the session lock must not ride on a transaction
    # that other code could commit or roll back underneath us.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        while not conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar():
            if time.monotonic() >= deadline:
                raise ThreadLocked(f"thread {thread_id} is running elsewhere")
            time.sleep(poll_s)
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
