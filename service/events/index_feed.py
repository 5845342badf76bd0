"""Feed the process's kept project task lists (tools/asana/task_index.py) from the inbox.

A kept list learns from events what Asana's `modified_at` does not show (membership, deletion,
dependency links). Every worker process must learn of every event, not only of those it handles
itself, so before each handling it reads the task events any receiver stored since its last look:
one indexed query on the inbox, no Asana call.

Inbox ids come from a sequence and commit in any order across receivers, so each look starts
`OVERLAP_ROWS` ids back and skips the ids it already noted. After a gap of more than `MAX_ROWS`
task events the kept lists are dropped instead (read whole next time).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Engine, func, select

from service.db.engine import read_session
from service.db.events import InboxEvent
from tools.asana.task_index import PROJECT_TASKS, ProjectTaskIndex

OVERLAP_ROWS = 256
MAX_ROWS = 2_000


def _project_of(payload: Mapping[str, Any]) -> str | None:
    parent = payload.get("parent")
    if isinstance(parent, Mapping) and parent.get("resource_type") == "project" and parent.get("gid"):
        return str(parent["gid"])
    return None


class InboxFeed:
    def __init__(self, index: ProjectTaskIndex = PROJECT_TASKS) -> None:
        self.index = index
        self._lock = threading.Lock()
        self._seen: dict[tuple[str, str], int] = {}  # (database, Asana) → the highest id noted
        self._noted: dict[tuple[str, str], set[int]] = {}  # ids noted within the overlap window

    def catch_up(self, engine: Engine, base_url: str) -> int:
        """Note the task events stored since the last look; the number noted."""
        key = (engine.url.render_as_string(hide_password=True), base_url)
        with self._lock:
            seen = self._seen.get(key)
        with read_session(engine) as session:
            if seen is None:
                # Lists kept before this first look missed what happened until now: read whole.
                top = session.scalar(select(func.max(InboxEvent.id))) or 0
                before = set(session.scalars(select(InboxEvent.id).where(InboxEvent.id > top - OVERLAP_ROWS)))
                self.index.forget(base_url)
                with self._lock:
                    self._seen[key], self._noted[key] = top, before
                return 0
            rows = session.execute(
                select(InboxEvent.id, InboxEvent.resource_gid, InboxEvent.action)
                .where(InboxEvent.id > seen - OVERLAP_ROWS, InboxEvent.resource_type == "task")
                .order_by(InboxEvent.id)
                .limit(MAX_ROWS + OVERLAP_ROWS + 1)
            ).all()
            with self._lock:
                noted = set(self._noted.get(key, set()))
            fresh = [r for r in rows if r.id not in noted]
            # Only an added/removed event names the project in its parent: read just those payloads.
            moved = [r.id for r in fresh if r.action in ("added", "removed")]
            parents = (
                {
                    i: _project_of(p or {})
                    for i, p in session.execute(
                        select(InboxEvent.id, InboxEvent.payload).where(InboxEvent.id.in_(moved))
                    ).all()
                }
                if moved
                else {}
            )
        if len(rows) > MAX_ROWS + OVERLAP_ROWS:
            self.index.forget(base_url)
        else:
            for row in fresh:
                if row.resource_gid:
                    self.index.note(base_url, row.resource_gid, parents.get(row.id))
        with self._lock:
            top = max([seen, *(r.id for r in rows)])
            kept = self._noted.setdefault(key, set())
            kept |= {r.id for r in fresh}
            kept -= {i for i in kept if i <= top - OVERLAP_ROWS}
            self._seen[key] = max(top, self._seen.get(key, 0))
        return len(fresh)

    def forget(self, base_url: str) -> None:
        """Stop following this Asana (its runtime closed); what it kept is dropped with it."""
        self.index.forget(base_url)
        with self._lock:
            for key in [k for k in self._seen if k[1] == base_url]:
                self._seen.pop(key, None)
                self._noted.pop(key, None)


INBOX_FEED = InboxFeed()
