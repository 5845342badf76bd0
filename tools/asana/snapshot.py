"""One consistent view of the tasks and projects read while one event is handled (issue 23).

Handling one "task added to the backlog" event used to read the same task four times: the handler
(is it an approval? completed?), the policy's scope check, the stale check right before the AI
fields are written, and the project twice. Inside `read_snapshot()` a client's `task(gid)` and
`project(gid)` reads are answered from the first read of that object in the same handling:

- any write through the client (every call that is not a GET) drops the whole snapshot, so a read
  after our own write always goes to Asana;
- an entry older than `max_age_s` is read again, so a slow model call between the proposal and
  the write cannot stretch the window in which a person's edit goes unnoticed; the stale check
  exists for the wait at the approval gate, which always spans two handlings (a resumed run has a
  snapshot of its own), and Asana has no compare-and-swap, so a person's edit in the milliseconds
  between any read and the PUT was never caught either;
- entries are per client object: another person's client (another token, other visibility)
  never sees what the service's client read.

Reads marked `lasting` (a project's own record: name, owner, workspace) are also kept across
handlings for `LASTING_TTL_S` when the snapshot was opened with `lasting=True` (the worker does),
keyed by the Asana, the client's token identity and the object; an event about a project drops
them (`forget_lasting`). Triage of a burst of new tasks then reads its backlog project once a
minute instead of once per task.

Outside a snapshot (CLI runs, the API) every read goes to Asana as before.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

from tools.asana.process_cache import ProcessCache

T = TypeVar("T")

DEFAULT_MAX_AGE_S = 10.0
LASTING_TTL_S = 60.0
_LASTING: ProcessCache[object] = ProcessCache(ttl_s=LASTING_TTL_S, max_entries=256)


class ReadSnapshot:
    def __init__(
        self,
        max_age_s: float = DEFAULT_MAX_AGE_S,
        clock: Callable[[], float] = time.monotonic,
        *,
        lasting: bool = False,
    ) -> None:
        self.max_age_s = max_age_s
        self.lasting = lasting
        self._clock = clock
        self._lock = threading.Lock()
        # The owner is kept with its entries so that its id() cannot be reused by another client.
        self._entries: dict[tuple[int, Hashable], tuple[float, object, object]] = {}
        self.hits = 0

    def read(self, owner: object, key: Hashable, make: Callable[[], T]) -> T:
        now = self._clock()
        with self._lock:
            found = self._entries.get((id(owner), key))
            if found is not None and now - found[0] <= self.max_age_s:
                self.hits += 1
                return found[1]  # type: ignore[return-value]  # stored by this same key's make()
        value = make()
        with self._lock:
            self._entries[(id(owner), key)] = (now, value, owner)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


_CURRENT: ContextVar[ReadSnapshot | None] = ContextVar("sprintpilot_read_snapshot", default=None)


@contextmanager
def read_snapshot(max_age_s: float | None = None, *, lasting: bool = False) -> Iterator[ReadSnapshot]:
    """Reads inside share one snapshot (nested calls reuse the outer one); entries live
    `max_age_s` (default `DEFAULT_MAX_AGE_S`, read at each call)."""
    outer = _CURRENT.get()
    if outer is not None:
        yield outer
        return
    snapshot = ReadSnapshot(DEFAULT_MAX_AGE_S if max_age_s is None else max_age_s, lasting=lasting)
    token = _CURRENT.set(snapshot)
    try:
        yield snapshot
    finally:
        _CURRENT.reset(token)


def snapshot_read(owner: object, key: Hashable, make: Callable[[], T], *, lasting: bool = False) -> T:
    """`make()`, or the value read for (owner, key) earlier in the current snapshot (or, for a
    `lasting` read in a lasting snapshot, in an earlier handling of this process)."""
    snapshot = _CURRENT.get()
    if snapshot is None:
        return make()
    base_url = str(getattr(owner, "base_url", ""))
    identity = str(getattr(owner, "identity", ""))
    if lasting and snapshot.lasting and base_url and identity:
        kept = (identity, key)
        # The process cache holds objects; this key's entries were all made by this key's make().
        return snapshot.read(owner, key, lambda: _LASTING.get(base_url, kept, make))  # type: ignore[return-value]
    return snapshot.read(owner, key, make)


def project_tasks_key(project_gid: str, view: Hashable, since: str | None = None) -> tuple[Hashable, ...]:
    """The key of a project's task list read (the client's `project_tasks`, the kept lists)."""
    return ("project_tasks", project_gid, view, since)


def forget_lasting(base_url: str) -> None:
    """Drop what lasting reads kept for this Asana (an event changed a project)."""
    _LASTING.forget(base_url)


def snapshot_wrote() -> None:
    """A write went out: nothing read before it may answer a later read."""
    snapshot = _CURRENT.get()
    if snapshot is not None:
        snapshot.clear()
