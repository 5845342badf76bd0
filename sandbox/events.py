"""The shared event stream: emission (with upward propagation scopes) and the events API cursor.

Webhooks and `GET /events` read the same `store.events`. An event's `scopes` are the gids whose
watchers see it: a story's task and that task's projects, a task's parent task and projects, ...
"""

from __future__ import annotations

import secrets
from typing import Any

from sandbox.records import Event, Record, Story, Task
from sandbox.store import Store

MAX_EVENTS_PER_CALL = 100
# asana_oas.yaml paths./workspaces/{workspace_gid}/events.get: "limits a single sync token to 1000 events".
MAX_WORKSPACE_EVENTS_PER_CALL = 1000


def resource_ref(record: Record) -> dict[str, Any]:
    ref: dict[str, Any] = {"gid": record.gid, "resource_type": record.resource_type}
    subtype = getattr(record, "resource_subtype", None)
    if subtype is not None:
        ref["resource_subtype"] = subtype
    return ref


def scopes_for(store: Store, record: Record) -> list[str]:
    scopes = [record.gid]
    if isinstance(record, Story):
        task = store.tasks.get(record.target)
        if task is not None:
            scopes.extend(s for s in scopes_for(store, task) if s not in scopes)
    elif isinstance(record, Task):
        if record.parent:
            scopes.append(record.parent)
        for m in record.memberships:
            scopes.append(m["project"])
            if m.get("section"):
                scopes.append(m["section"])
        scopes.append(record.workspace)
    else:
        project = getattr(record, "project", None)
        if project:
            scopes.append(project)
        workspace = store.workspace_of(record)
        if workspace:
            scopes.append(workspace)
    return scopes


def emit(
    store: Store,
    record: Record,
    action: str,
    *,
    user: str | None,
    parent: Record | None = None,
    change: dict[str, Any] | None = None,
    extra_scopes: list[str] | None = None,
) -> Event:
    """Append one event (and notify webhook listeners)."""
    scopes = scopes_for(store, record)
    for gid in extra_scopes or []:
        if gid not in scopes:
            scopes.append(gid)
    event = Event(
        gid="0",
        created_at=store.now(),
        user=user,
        action=action,
        resource=resource_ref(record),
        parent={"gid": parent.gid, "resource_type": parent.resource_type} if parent else None,
        change=change,
        scopes=scopes,
    )
    return store.append_event(event)


def change(
    field: str, action: str = "changed", value: Any = None, *, key: str | None = None
) -> dict[str, Any]:
    """`change` block; `value` is only included for resource values ({gid, resource_type})."""
    out: dict[str, Any] = {"field": field, "action": action}
    if value is not None:
        out[key or {"added": "added_value", "removed": "removed_value"}.get(action, "new_value")] = value
    return out


class EventsCursor:
    """Sync-token bookkeeping for `GET /events` (tokens live in the store, so they persist)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def fresh_token(self, resource_gid: str) -> str:
        token = secrets.token_hex(16)
        with self.store.lock:
            self.store.sync_tokens[token] = [resource_gid, self.store.next_event_seq - 1]
        return token

    def read(
        self, resource_gid: str, token: str | None, limit: int = MAX_EVENTS_PER_CALL
    ) -> tuple[list[Event], str, bool] | None:
        """Events after the token; None when the token is missing/unknown/for another resource."""
        with self.store.lock:
            entry = self.store.sync_tokens.get(token or "")
            if entry is None or entry[0] != resource_gid:
                return None
            last_seq = int(entry[1])
            matched: list[Event] = []
            has_more = False
            for event in self._after(last_seq):
                if resource_gid in event.scopes:
                    if len(matched) == limit:
                        has_more = True
                        break
                    matched.append(event)
            new_last = matched[-1].seq if has_more else self.store.next_event_seq - 1
            new_token = secrets.token_hex(16)
            self.store.sync_tokens[new_token] = [resource_gid, new_last]
            return matched, new_token, has_more

    def _after(self, seq: int) -> list[Event]:
        events = self.store.events
        # Events are appended with increasing seq; binary search the start.
        lo, hi = 0, len(events)
        while lo < hi:
            mid = (lo + hi) // 2
            if events[mid].seq <= seq:
                lo = mid + 1
            else:
                hi = mid
        return events[lo:]

    def expire_all(self) -> None:
        """Make every outstanding sync token stale (tests of the 412 path)."""
        with self.store.lock:
            self.store.sync_tokens.clear()
