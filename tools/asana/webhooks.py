"""Webhooks and the events API.

`create_webhook` asks for the full payload because the handshake secret is a top-level
`X-Hook-Secret` key beside `data`, which the SDK's default unwrapping drops. `events` bypasses the
SDK's EventIterator (it loses the new sync token and only refreshes it once; python-asana #199,
#200): one request per call, the caller keeps the sync token.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import asana

from tools.asana import fields as F
from tools.asana.core import ClientCore
from tools.asana.errors import SyncTokenExpired
from tools.asana.models import Event, EventsPage, Webhook


class WebhookOps(ClientCore):
    def create_webhook(
        self, resource_gid: str, target: str, filters: Iterable[Mapping[str, Any]] | None = None
    ) -> tuple[Webhook, str | None]:
        """Create a webhook; Asana handshakes with `target` before answering. Returns the
        webhook and the `X-Hook-Secret` (sent only this once: store it)."""
        api = self.api(asana.WebhooksApi)
        data: dict[str, Any] = {"resource": resource_gid, "target": target}
        if filters is not None:
            data["filters"] = [dict(f) for f in filters]
        body = {"data": data}
        payload = self._payload(
            "POST /webhooks", lambda kw: api.create_webhook(body, {"opt_fields": F.WEBHOOK}, **kw)
        )
        secret = payload.get("X-Hook-Secret")
        return Webhook.model_validate(payload.get("data") or {}), (str(secret) if secret else None)

    def webhooks(self, workspace_gid: str, resource_gid: str | None = None) -> list[Webhook]:
        api = self.api(asana.WebhooksApi)
        rows = self._pages(
            "GET /webhooks",
            lambda o, kw: api.get_webhooks(workspace_gid, o, **kw),
            F.WEBHOOK,
            {"resource": resource_gid} if resource_gid else None,
        )
        return [Webhook.model_validate(r) for r in rows]

    def delete_webhook(self, webhook_gid: str) -> None:
        api = self.api(asana.WebhooksApi)
        self._one("DELETE /webhooks/{gid}", lambda kw: api.delete_webhook(webhook_gid, **kw), gid=webhook_gid)

    def events(self, resource_gid: str, sync: str | None = None) -> EventsPage:
        """One page (≤100) of events since `sync`.

        Raises SyncTokenExpired carrying a fresh token when `sync` is None, stale or unknown;
        keep that token and call again to receive events from then on.
        """
        api = self.api(asana.EventsApi)
        opts: dict[str, Any] = {"sync": sync} if sync else {}
        payload = self._payload("GET /events", lambda kw: api.get_events(resource_gid, dict(opts), **kw))
        new_sync = payload.get("sync")
        if not new_sync:
            # A 2xx without a sync token is not a valid events answer: treat as needing a resync.
            raise SyncTokenExpired("", message="events answer carried no sync token")
        rows = payload.get("data") or []
        return EventsPage(
            events=[Event.model_validate(r) for r in rows if isinstance(r, dict)],
            sync=str(new_sync),
            has_more=bool(payload.get("has_more", False)),
        )

    def events_start(self, resource_gid: str) -> str:
        """A sync token for 'from now on' (Asana answers the first, token-less call with 412)."""
        try:
            page = self.events(resource_gid)
        except SyncTokenExpired as exc:
            return exc.sync
        return page.sync
