"""kombu's Redis transport, made safe for a task that finishes after its broker connection died.

When Redis goes away mid-task, Celery's consumer closes the broken connection (its channels drop
their connection pools) and reconnects on a new one. The task's message still belongs to the old
channel, so its ack (or reject) runs there; kombu then rebuilds a pool from a transport whose
`client` is already None and raises AttributeError ('NoneType' object has no attribute
'hostname'). That is not one of the transport's connection errors, so instead of Celery's
"Couldn't ack" log it escapes into the worker's event loop and the worker stops consuming for good
(seen in the pipeline's broker-outage test under load; tests/worker/test_transport.py reproduces
it without Celery).

Here an ack, reject or restore on such a stale channel raises Redis's ConnectionError, which
Celery catches and logs. Nothing is lost by not acking: the message stays in Redis's unacked
index (when Redis kept its data) and the visibility timeout redelivers it; our delivery counter
and idempotent apply make a second delivery harmless (reliability-reference §1).
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlparse

from kombu.transport import redis as kombu_redis
from redis.exceptions import ConnectionError as RedisConnectionError

log = logging.getLogger(__name__)

# The transport's path as kombu resolves it (module:Class), for Celery's broker_transport setting.
TRANSPORT_PATH = "service.worker.transport:Transport"
_SCHEMES = frozenset({"redis", "rediss"})


def transport_for(broker_url: str) -> str | None:
    """Our transport for a plain Redis broker URL; None (kombu picks from the URL) for others,
    e.g. Sentinel or AMQP, whose transports this does not extend."""
    return TRANSPORT_PATH if urlparse(broker_url).scheme in _SCHEMES else None


class StaleChannelError(RedisConnectionError):
    """The message's channel belongs to a broker connection that has since been closed."""


class QoS(kombu_redis.QoS):
    def _stale(self) -> bool:
        transport = getattr(self.channel, "connection", None)
        return transport is None or getattr(transport, "client", None) is None

    def _refuse(self, what: str, delivery_tag: Any) -> None:
        raise StaleChannelError(
            f"cannot {what} message {delivery_tag}: its broker connection was closed; "
            "Redis redelivers it after the visibility timeout"
        )

    def ack(self, delivery_tag: Any) -> None:
        if self._stale():
            self._refuse("ack", delivery_tag)
        super().ack(delivery_tag)  # type: ignore[no-untyped-call]  # kombu is untyped

    def reject(self, delivery_tag: Any, requeue: bool = False) -> None:
        if self._stale():
            self._refuse("reject", delivery_tag)
        super().reject(delivery_tag, requeue=requeue)  # type: ignore[no-untyped-call]

    def restore_unacked(self, client: Any = None) -> None:
        if client is None and self._stale():
            # Restoring needs a live connection; the unacked index in Redis still holds them.
            log.warning("not restoring %d unacked message(s) of a closed connection", len(self._delivered))
            self._delivered.clear()
            return
        super().restore_unacked(client)  # type: ignore[no-untyped-call]


class Channel(kombu_redis.Channel):
    QoS = QoS


class Transport(kombu_redis.Transport):
    Channel = Channel
