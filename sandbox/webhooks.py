"""Webhooks like Asana's: X-Hook-Secret handshake, HMAC-signed deliveries, retries, heartbeats.

A router thread turns store events into per-webhook batches (filters + upward propagation);
each webhook has its own worker thread so deliveries to one target stay ordered and a slow or
failing target never holds up the others. Failed deliveries (non-2xx, error, or slower than
`delivery_timeout_s`) are retried with exponential backoff; after `give_up_after_s` of failure
the webhook is deleted, as Asana does after 24 h.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import queue
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

import httpx
from pydantic import BaseModel, Field

from sandbox.errors import bad_request
from sandbox.faults import FaultInjector
from sandbox.records import Event, Webhook
from sandbox.serialize import event_json
from sandbox.store import Store

MAX_EVENTS_PER_DELIVERY = 100
_CONTAINERS = {"workspace", "team", "portfolio"}


class WebhookSettings(BaseModel):
    delivery_timeout_s: float = Field(default=10.0, gt=0)
    handshake_timeout_s: float = Field(default=10.0, gt=0)
    retry_base_s: float = Field(default=1.0, ge=0)
    retry_max_s: float = Field(default=60.0, ge=0)
    give_up_after_s: float = Field(default=24 * 3600.0, gt=0)
    heartbeat_interval_s: float = Field(default=8 * 3600.0, gt=0)
    batch_window_s: float = Field(default=0.02, ge=0)
    # Asana only delivers to https targets on a public host. Test stacks and the local demo, whose
    # receivers listen on 127.0.0.1, opt in to http/loopback/private targets explicitly.
    allow_local_targets: bool = False


def check_target(target: str, allow_local: bool) -> None:
    """asana_oas.yaml: paths./webhooks.post, WebhookRequest.target ("The URL to receive the HTTP
    POST. The full URL will be used to deliver events"): Asana refuses non-https targets and hosts
    it cannot reach (localhost, private addresses)."""
    parsed = urlparse(target)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise bad_request("target: Must be an http(s) URL")
    if allow_local:
        return
    if parsed.scheme != "https":
        raise bad_request("target: Webhook targets must use https")
    host = parsed.hostname.lower()
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        local = host == "localhost" or host.endswith((".localhost", ".local", ".internal")) or "." not in host
    else:
        local = not address.is_global
    if local:
        raise bad_request("target: Webhook targets must be on a public host Asana can reach")


def sign(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


# asana_oas.yaml components.schemas.WebhookFilter.action: "one of `changed`, `added`, `removed`,
# `deleted`, and `undeleted`".
FILTER_ACTIONS = frozenset({"changed", "added", "removed", "deleted", "undeleted"})


def validate_filters(resource_type: str, filters: Any) -> list[dict[str, Any]]:
    if filters is None:
        filters = []
    if not isinstance(filters, list) or not all(isinstance(f, dict) for f in filters):
        raise bad_request("filters: Value is not a list of objects")
    allowed = {"resource_type", "resource_subtype", "action", "fields"}
    for f in filters:
        unknown = set(f) - allowed
        if unknown:
            raise bad_request(f"filters: Unknown keys {sorted(unknown)}")
        if f.get("action") is not None and f["action"] not in FILTER_ACTIONS:
            choices = ", ".join(sorted(FILTER_ACTIONS))
            raise bad_request(f"filters.action: Not one of {choices}: {f['action']!r}")
        if f.get("fields") is not None:
            if resource_type in _CONTAINERS:
                raise bad_request("filters.fields: Not allowed on workspace, team or portfolio webhooks")
            if f.get("action") != "changed":
                raise bad_request("filters.fields: Only valid with action 'changed'")
    if resource_type in _CONTAINERS and not filters:
        raise bad_request(f"filters: Webhooks on a {resource_type} must specify filters")
    return [dict(f) for f in filters]


def matches(store: Store, webhook: Webhook, event: Event) -> bool:
    if not webhook.active or webhook.resource not in event.scopes:
        return False
    target = store.index.get(webhook.resource)
    if target is None:
        return False
    rtype = event.resource.get("resource_type")
    if target.resource_type in _CONTAINERS and rtype in ("task", "story"):
        return False
    if not webhook.filters:
        return True
    for f in webhook.filters:
        if f.get("resource_type") and f["resource_type"] != rtype:
            continue
        if f.get("resource_subtype") and f["resource_subtype"] != event.resource.get("resource_subtype"):
            continue
        if f.get("action") and f["action"] != event.action:
            continue
        changed_field = event.change.get("field") if event.change else None
        if f.get("fields") and (event.action != "changed" or changed_field not in f["fields"]):
            continue
        return True
    return False


@dataclass
class DeliveryRecord:
    webhook: str
    events: int
    status: int | None
    ok: bool
    attempt: int
    at: float
    note: str = ""


@dataclass
class _Outbox:
    webhook_gid: str
    pending: deque[list[dict[str, Any]] | None] = field(default_factory=deque)  # None = heartbeat
    cond: threading.Condition = field(default_factory=threading.Condition)
    thread: threading.Thread | None = None


class Dispatcher:
    def __init__(self, store: Store, faults: FaultInjector, settings: WebhookSettings | None = None) -> None:
        self.store = store
        self.faults = faults
        self.settings = settings or WebhookSettings()
        self._events: queue.Queue[Event | None] = queue.Queue()
        self._outboxes: dict[str, _Outbox] = {}
        self._stop = threading.Event()
        self._router: threading.Thread | None = None
        self._lock = threading.Lock()
        self._last_heartbeat = time.monotonic()
        self.log: deque[DeliveryRecord] = deque(maxlen=2000)
        self._client = httpx.Client()

    # ---- lifecycle ------------------------------------------------------------------------
    def start(self) -> None:
        with self._lock:
            if self._router is not None:
                return
            self._stop.clear()
            self._router = threading.Thread(
                target=self._route_loop, name="sandbox-webhook-router", daemon=True
            )
            self._router.start()
            self.store.event_listeners.append(self._on_event)

    def stop(self) -> None:
        with self._lock:
            router, self._router = self._router, None
            self._stop.set()
            if self._on_event in self.store.event_listeners:
                self.store.event_listeners.remove(self._on_event)
            outboxes = list(self._outboxes.values())
            self._outboxes.clear()
        self._events.put(None)
        for box in outboxes:
            with box.cond:
                box.cond.notify_all()
        if router is not None:
            router.join(timeout=5)
        for box in outboxes:
            if box.thread is not None:
                box.thread.join(timeout=5)
        self._client.close()
        self._client = httpx.Client()

    def _on_event(self, event: Event) -> None:
        self._events.put(event)

    # ---- handshake ------------------------------------------------------------------------
    def handshake(self, target: str) -> str:
        """Run the X-Hook-Secret handshake (call with no store lock held); returns the secret."""
        secret = secrets.token_hex(16)
        try:
            response = self._client.post(
                target,
                content=b"",
                headers={"X-Hook-Secret": secret},
                timeout=self.settings.handshake_timeout_s,
            )
        except httpx.HTTPError as err:
            raise bad_request(
                f"target: The remote server could not be reached for the handshake ({err})"
            ) from None
        if response.status_code not in (200, 204):
            raise bad_request(f"target: The remote server answered the handshake with {response.status_code}")
        if response.headers.get("X-Hook-Secret") != secret:
            raise bad_request("target: The remote server did not echo the X-Hook-Secret header")
        return secret

    # ---- heartbeats -----------------------------------------------------------------------
    def heartbeat(self, webhook_gid: str | None = None) -> int:
        """Queue an empty-events delivery to one or all active webhooks; returns how many."""
        with self.store.lock:
            gids = [
                w.gid
                for w in self.store.webhooks.values()
                if w.active and (webhook_gid is None or w.gid == webhook_gid)
            ]
        for gid in gids:
            self._enqueue(gid, None)
        self._last_heartbeat = time.monotonic()
        return len(gids)

    # ---- routing --------------------------------------------------------------------------
    def _route_loop(self) -> None:
        while not self._stop.is_set():
            timeout = max(
                0.05, self.settings.heartbeat_interval_s - (time.monotonic() - self._last_heartbeat)
            )
            try:
                first = self._events.get(timeout=min(timeout, 1.0))
            except queue.Empty:
                if time.monotonic() - self._last_heartbeat >= self.settings.heartbeat_interval_s:
                    self.heartbeat()
                continue
            if first is None:
                continue
            batch = [first]
            deadline = time.monotonic() + self.settings.batch_window_s
            while len(batch) < MAX_EVENTS_PER_DELIVERY:
                remaining = deadline - time.monotonic()
                try:
                    item = (
                        self._events.get(timeout=max(0.0, remaining))
                        if remaining > 0
                        else self._events.get_nowait()
                    )
                except queue.Empty:
                    break
                if item is None:
                    break
                batch.append(item)
            self._route(batch)

    def _route(self, events: list[Event]) -> None:
        per_hook: dict[str, list[dict[str, Any]]] = {}
        with self.store.lock:
            hooks = list(self.store.webhooks.values())
            for event in events:
                payload = event_json(self.store, event)
                for hook in hooks:
                    if matches(self.store, hook, event):
                        per_hook.setdefault(hook.gid, []).append(payload)
        for gid, payloads in per_hook.items():
            for start in range(0, len(payloads), MAX_EVENTS_PER_DELIVERY):
                self._enqueue(gid, payloads[start : start + MAX_EVENTS_PER_DELIVERY])

    def _enqueue(self, webhook_gid: str, payloads: list[dict[str, Any]] | None) -> None:
        with self._lock:
            if self._stop.is_set():
                return
            box = self._outboxes.get(webhook_gid)
            if box is None:
                box = _Outbox(webhook_gid)
                box.thread = threading.Thread(
                    target=self._worker, args=(box,), daemon=True, name=f"sandbox-webhook-{webhook_gid}"
                )
                self._outboxes[webhook_gid] = box
                box.thread.start()
        with box.cond:
            box.pending.append(payloads)
            box.cond.notify()

    def forget(self, webhook_gid: str) -> None:
        """Stop delivering to a deleted webhook."""
        with self._lock:
            box = self._outboxes.pop(webhook_gid, None)
        if box is not None:
            with box.cond:
                box.pending.clear()
                box.cond.notify_all()

    # ---- delivery -------------------------------------------------------------------------
    def _worker(self, box: _Outbox) -> None:
        while not self._stop.is_set():
            with box.cond:
                while (
                    not box.pending and not self._stop.is_set() and self._outboxes.get(box.webhook_gid) is box
                ):
                    box.cond.wait(timeout=1.0)
                if self._stop.is_set() or self._outboxes.get(box.webhook_gid) is not box:
                    return
                payloads = box.pending.popleft()
            if payloads is None:
                self._deliver_once(box.webhook_gid, [], attempt=0)
            else:
                self._deliver_with_retries(box, payloads)

    def _deliver_with_retries(self, box: _Outbox, payloads: list[dict[str, Any]]) -> None:
        first_failure: float | None = None
        attempt = 0
        while not self._stop.is_set() and self._outboxes.get(box.webhook_gid) is box:
            if attempt == 0 and self.faults.drop_delivery():
                self.log.append(
                    DeliveryRecord(
                        box.webhook_gid,
                        len(payloads),
                        None,
                        False,
                        0,
                        time.time(),
                        "dropped by fault injection",
                    )
                )
                return
            ok = self._deliver_once(box.webhook_gid, payloads, attempt)
            if ok is None:
                return  # webhook gone
            if ok:
                if attempt == 0 and self.faults.duplicate_delivery():
                    self._deliver_once(
                        box.webhook_gid, payloads, attempt, note="duplicate by fault injection"
                    )
                return
            now = time.monotonic()
            first_failure = first_failure if first_failure is not None else now
            if now - first_failure >= self.settings.give_up_after_s:
                self._delete_after_failures(box.webhook_gid)
                return
            attempt += 1
            delay = min(self.settings.retry_max_s, self.settings.retry_base_s * 2 ** (attempt - 1))
            with self.store.lock:
                hook = self.store.webhooks.get(box.webhook_gid)
                if hook is not None:
                    hook.next_attempt_after = _iso_in(self.store, delay)
            if self._stop.wait(delay):
                return

    def _deliver_once(
        self, webhook_gid: str, payloads: list[dict[str, Any]], attempt: int, note: str = ""
    ) -> bool | None:
        with self.store.lock:
            hook = self.store.webhooks.get(webhook_gid)
            if hook is None or not hook.active:
                return None
            target, secret = hook.target, hook.secret
        body = json.dumps({"events": payloads}, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json", "X-Hook-Signature": sign(secret, body)}
        status: int | None = None
        failure = ""
        try:
            response = self._client.post(
                target, content=body, headers=headers, timeout=self.settings.delivery_timeout_s
            )
            status = response.status_code
            ok = 200 <= status < 300
            if not ok:
                failure = f"{status} {response.text[:200]}"
        except httpx.TimeoutException:
            ok, failure = False, f"Timed out after {self.settings.delivery_timeout_s} s"
        except httpx.HTTPError as err:
            ok, failure = False, f"Connection failed: {err}"
        with self.store.lock:
            hook = self.store.webhooks.get(webhook_gid)
            if hook is not None:
                now = self.store.now()
                if ok:
                    hook.last_success_at = now
                    hook.delivery_retry_count = 0
                    hook.next_attempt_after = None
                    hook.failure_deletion_timestamp = None
                else:
                    hook.last_failure_at = now
                    hook.last_failure_content = failure
                    hook.delivery_retry_count += 1
        self.log.append(
            DeliveryRecord(webhook_gid, len(payloads), status, ok, attempt, time.time(), note or failure)
        )
        return ok

    def _delete_after_failures(self, webhook_gid: str) -> None:
        with self.store.lock:
            hook = self.store.webhooks.get(webhook_gid)
            if hook is not None:
                hook.active = False
                self.store.remove(webhook_gid)
        self.forget(webhook_gid)

    def snapshot(self) -> list[dict[str, Any]]:
        return [
            {
                "webhook": d.webhook,
                "events": d.events,
                "status": d.status,
                "ok": d.ok,
                "attempt": d.attempt,
                "note": d.note,
            }
            for d in list(self.log)[-200:]
        ]


def _iso_in(store: Store, seconds: float) -> str:
    from datetime import timedelta

    from sandbox.store import iso

    return iso(store.now_dt() + timedelta(seconds=seconds)) or ""
