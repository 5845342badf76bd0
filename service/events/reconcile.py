"""Reconciliation: catch up on events Asana never delivered by webhook (delivery is at-most-once).

For each watched project the poller reads the events API from its stored sync token and feeds
what it finds into the same inbox as the webhook receiver (`store_events(source="events_api")`),
where the content-hash dedup key makes an event seen both ways one row, so it runs once.
The sync token is advanced in the same transaction as the inbox rows it covers.

A 412 for a token we had means events were lost (tokens expire after ~24 h): the fresh token is
stored and the result says `resynced`, so the caller re-reads current state (the pending approvals'
tasks) instead of trusting the gap to be empty. The first read of a project only starts watching.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from service.db.engine import read_session, write_session
from service.db.events import WebhookSubscription
from service.db.worker import EventSyncToken, WatchedProject
from service.events.inbox import store_events
from tools.asana.errors import SyncTokenExpired


@dataclass
class ReconcileResult:
    project_gid: str
    stored: int = 0
    duplicates: int = 0
    pages: int = 0
    started: bool = False
    resynced: bool = False

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _save_token(session: Session, gid: str, token: str, *, resynced: bool = False) -> None:
    row = session.get(EventSyncToken, gid)
    now = datetime.now(UTC)
    if row is None:
        row = EventSyncToken(resource_gid=gid, sync_token=token, updated_at=now)
        session.add(row)
    row.sync_token = token
    row.updated_at = now
    if resynced:
        row.resynced_at = now


def stored_token(engine: Engine, gid: str) -> str | None:
    with read_session(engine) as session:
        row = session.get(EventSyncToken, gid)
        return row.sync_token if row is not None else None


def reconcile_project(
    engine: Engine, asana: Any, project_gid: str, *, max_pages: int = 50
) -> ReconcileResult:
    """Read new events of one project into the inbox; see the module docstring for 412 handling."""
    result = ReconcileResult(project_gid)
    token = stored_token(engine, project_gid)
    if token is None:
        fresh = asana.events_start(project_gid)
        with write_session(engine) as session:
            _save_token(session, project_gid, fresh)
        result.started = True
        return result
    for _ in range(max_pages):
        try:
            page = asana.events(project_gid, token)
        except SyncTokenExpired as err:
            fresh = err.sync or asana.events_start(project_gid)
            with write_session(engine) as session:
                _save_token(session, project_gid, fresh, resynced=True)
            result.resynced = True
            return result
        with write_session(engine) as session:
            if page.events:
                inserted, dups = store_events(session, page.events, source="events_api")
                result.stored += inserted
                result.duplicates += dups
            _save_token(session, project_gid, page.sync)
        result.pages += 1
        token = page.sync
        if not page.has_more:
            break
    return result


def watched_projects(engine: Engine, extra: list[str] | None = None) -> list[str]:
    """Projects to poll: explicitly watched ones, projects with a webhook, and `extra` (settings)."""
    with read_session(engine) as session:
        gids = list(session.scalars(select(WatchedProject.project_gid)))
        gids += session.scalars(
            select(WebhookSubscription.resource_gid).where(WebhookSubscription.resource_type == "project")
        )
    return sorted(set(gids) | set(extra or []))
