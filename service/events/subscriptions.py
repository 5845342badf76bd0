"""Webhook subscriptions and the handshake rendezvous between `webhooks register` and the receiver.

Asana sends the `X-Hook-Secret` handshake to the target *while* `POST /webhooks` is in flight and
without the webhook gid, which only the create answer carries. So `register` first files an
expected handshake under a fresh nonce that is also the last path segment of the target URL; the
receiver (possibly another process) stores the secret it sees for that nonce; when create returns,
`bind_webhook` moves the secret into `webhook_subscriptions` under the new gid. A handshake for a
nonce nobody is registering, or for one already bound, is refused.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from pydantic import BaseModel
from sqlalchemy import Engine, delete, or_, select, update
from sqlalchemy.orm import Session

from service.db.engine import read_session, write_session
from service.db.events import WebhookHandshake, WebhookSubscription
from tools.asana.models import Webhook
from tools.errors import UpstreamError

# How long a registration waits for its handshake; Asana handshakes within the create call.
HANDSHAKE_WINDOW = timedelta(minutes=10)
# Deliveries refresh last_delivery_at at most this often, so concurrent deliveries to one webhook
# do not queue on that row's lock.
DELIVERY_TOUCH_INTERVAL = timedelta(seconds=30)
NONCE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
RECEIVER_PATH = "/webhooks/asana"
MAX_SECRET_LEN = 512


class HandshakeOutcome(StrEnum):
    ACCEPTED = "accepted"
    UNKNOWN = "unknown"
    EXPIRED = "expired"
    CONFLICT = "conflict"


class RegistrationError(UpstreamError, RuntimeError):
    """The handshake and the create answer cannot be reconciled into one subscription."""


class Subscription(BaseModel):
    """A stored subscription as listed (never with its secret)."""

    webhook_gid: str
    resource_gid: str
    resource_type: str
    target: str
    workspace_gid: str | None
    active: bool
    created_at: datetime
    last_delivery_at: datetime | None
    last_heartbeat_at: datetime | None


def _now() -> datetime:
    return datetime.now(UTC)


def new_nonce() -> str:
    return secrets.token_urlsafe(24)


def valid_nonce(nonce: str) -> bool:
    return bool(NONCE_PATTERN.match(nonce))


def receiver_target(base_url: str, nonce: str) -> str:
    """`https://host[/prefix]/webhooks/asana/<nonce>` from the receiver's public base URL."""
    base = base_url.rstrip("/")
    if not base.endswith(RECEIVER_PATH):
        base += RECEIVER_PATH
    return f"{base}/{nonce}"


def expect_handshake(engine: Engine, nonce: str, target: str, resource_gid: str) -> None:
    with write_session(engine) as session:
        session.add(
            WebhookHandshake(nonce=nonce, target=target, resource_gid=resource_gid, created_at=_now())
        )


def record_handshake(engine: Engine, nonce: str, secret: str) -> HandshakeOutcome:
    """File the secret of a handshake for `nonce`, if a registration is waiting for one."""
    now = _now()
    with write_session(engine) as session:
        row = session.scalar(
            select(WebhookHandshake).where(WebhookHandshake.nonce == nonce).with_for_update()
        )
        if row is None:
            return HandshakeOutcome.UNKNOWN
        if row.webhook_gid is not None:
            return HandshakeOutcome.CONFLICT  # already bound: a new secret would be a takeover
        if row.secret is not None:
            # A repeat of the same handshake is harmless; a different secret would be a takeover.
            same = secrets.compare_digest(row.secret.encode(), secret.encode())
            return HandshakeOutcome.ACCEPTED if same else HandshakeOutcome.CONFLICT
        if now - row.created_at > HANDSHAKE_WINDOW:
            return HandshakeOutcome.EXPIRED
        row.secret = secret
        row.handshake_at = now
        return HandshakeOutcome.ACCEPTED


def bind_webhook(
    engine: Engine,
    nonce: str,
    *,
    webhook_gid: str,
    resource_gid: str,
    resource_type: str,
    workspace_gid: str | None,
    create_secret: str | None,
) -> Subscription:
    """Turn the handshake of `nonce` into the subscription of `webhook_gid` (after create returned)."""
    with write_session(engine) as session:
        row = session.get(WebhookHandshake, nonce, with_for_update=True)
        if row is None:
            raise RegistrationError(f"no registration is waiting under nonce {nonce[:6]}…")
        seen = row.secret
        if seen and create_secret and not secrets.compare_digest(seen.encode(), create_secret.encode()):
            raise RegistrationError("the handshake secret differs from the one in Asana's create answer")
        secret = seen or create_secret
        if not secret:
            raise RegistrationError("Asana created the webhook but no handshake secret reached the receiver")
        sub = WebhookSubscription(
            webhook_gid=webhook_gid,
            resource_gid=resource_gid,
            resource_type=resource_type,
            target=row.target,
            nonce=nonce,
            secret=secret,
            workspace_gid=workspace_gid,
            created_at=_now(),
            active=True,
        )
        session.merge(sub)
        row.webhook_gid = webhook_gid
        row.secret = None  # the subscription holds it now; keep one copy only
        session.flush()
        return _info(sub)


def abandon_handshake(engine: Engine, nonce: str) -> None:
    """Forget a registration whose create call failed."""
    with write_session(engine) as session:
        session.execute(delete(WebhookHandshake).where(WebhookHandshake.nonce == nonce))


def candidate_secrets(session: Session, nonce: str | None) -> list[tuple[str | None, str]]:
    """(webhook gid, secret) pairs that may have signed a delivery to this receiver path.

    With a nonce: its subscription, or a handshake secret not yet bound (a delivery can race the
    end of `register`). Without one (`/webhooks/asana`): every active subscription.
    """
    if nonce is None:
        rows = session.execute(
            select(WebhookSubscription.webhook_gid, WebhookSubscription.secret).where(
                WebhookSubscription.active.is_(True)
            )
        ).all()
        return [(gid, secret) for gid, secret in rows]
    sub = session.execute(
        select(WebhookSubscription.webhook_gid, WebhookSubscription.secret).where(
            WebhookSubscription.nonce == nonce, WebhookSubscription.active.is_(True)
        )
    ).first()
    if sub is not None:
        return [(sub[0], sub[1])]
    pending = session.scalar(
        select(WebhookHandshake.secret).where(
            WebhookHandshake.nonce == nonce, WebhookHandshake.secret.is_not(None)
        )
    )
    return [(None, pending)] if pending else []


def mark_heartbeat(session: Session, webhook_gid: str) -> None:
    session.execute(
        update(WebhookSubscription)
        .where(WebhookSubscription.webhook_gid == webhook_gid)
        .values(last_heartbeat_at=_now())
    )


def touch_delivery(session: Session, webhook_gid: str) -> None:
    now = _now()
    session.execute(
        update(WebhookSubscription)
        .where(
            WebhookSubscription.webhook_gid == webhook_gid,
            or_(
                WebhookSubscription.last_delivery_at.is_(None),
                WebhookSubscription.last_delivery_at < now - DELIVERY_TOUCH_INTERVAL,
            ),
        )
        .values(last_delivery_at=now)
    )


def _info(row: WebhookSubscription) -> Subscription:
    return Subscription(
        webhook_gid=row.webhook_gid,
        resource_gid=row.resource_gid,
        resource_type=row.resource_type,
        target=row.target,
        workspace_gid=row.workspace_gid,
        active=bool(row.active),
        created_at=row.created_at,
        last_delivery_at=row.last_delivery_at,
        last_heartbeat_at=row.last_heartbeat_at,
    )


def list_subscriptions(engine: Engine) -> list[Subscription]:
    with read_session(engine) as session:
        rows = session.scalars(select(WebhookSubscription).order_by(WebhookSubscription.created_at))
        return [_info(r) for r in rows]


def get_subscription(engine: Engine, webhook_gid: str) -> Subscription | None:
    with read_session(engine) as session:
        row = session.get(WebhookSubscription, webhook_gid)
        return _info(row) if row is not None else None


def delete_subscription(engine: Engine, webhook_gid: str) -> bool:
    """Remove a subscription (and its handshake record); True if it existed."""
    with write_session(engine) as session:
        row = session.get(WebhookSubscription, webhook_gid)
        if row is not None:
            session.delete(row)
        session.execute(delete(WebhookHandshake).where(WebhookHandshake.webhook_gid == webhook_gid))
        return row is not None


# A project webhook's default feed: its tasks coming, going and changing, and new stories
# (comments, and system stories such as approval decisions).
DEFAULT_PROJECT_FILTERS: tuple[dict[str, str], ...] = (
    {"resource_type": "task", "action": "added"},
    {"resource_type": "task", "action": "changed"},
    {"resource_type": "task", "action": "removed"},
    {"resource_type": "story", "action": "added"},
)


class WebhookCreator(Protocol):
    def create_webhook(
        self, resource_gid: str, target: str, filters: Iterable[Mapping[str, Any]] | None = None
    ) -> tuple[Webhook, str | None]: ...


def register_webhook(
    asana: WebhookCreator,
    engine: Engine,
    *,
    resource_gid: str,
    receiver_url: str,
    resource_type: str = "project",
    workspace_gid: str | None = None,
    filters: Iterable[Mapping[str, Any]] | None = DEFAULT_PROJECT_FILTERS,
) -> Subscription:
    """Create an Asana webhook on `resource_gid` delivering to our receiver, and store its secret.

    The receiver at `receiver_url` must be running and share this database: Asana's handshake
    reaches it during `create_webhook`.
    """
    nonce = new_nonce()
    target = receiver_target(receiver_url, nonce)
    expect_handshake(engine, nonce, target, resource_gid)
    try:
        webhook, create_secret = asana.create_webhook(resource_gid, target, filters)
    except BaseException:
        abandon_handshake(engine, nonce)
        raise
    return bind_webhook(
        engine,
        nonce,
        webhook_gid=webhook.gid,
        resource_gid=resource_gid,
        resource_type=(webhook.resource.resource_type if webhook.resource else None) or resource_type,
        workspace_gid=workspace_gid,
        create_secret=create_secret,
    )
