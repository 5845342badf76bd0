"""A task that finishes after the broker came back acks on its old, closed channel.

kombu's Redis transport raises AttributeError there, which is not a connection error, so Celery's
"Couldn't ack" handling does not catch it and the worker stops consuming (the broker-outage
pipeline test hung that way under load). The app's transport turns it into a connection error.
"""

from __future__ import annotations

import logging
import shutil
from typing import Any

import pytest
from kombu import Exchange, Queue

from evals.pipeline_stack import PrivateRedis
from service.settings import Settings
from service.worker.app import make_celery
from service.worker.transport import TRANSPORT_PATH, StaleChannelError, transport_for

pytestmark = pytest.mark.integration


def test_the_transport_is_ours_for_redis_urls_only() -> None:
    assert transport_for("redis://127.0.0.1:6379/0") == TRANSPORT_PATH
    assert transport_for("rediss://cache.example:6380/0") == TRANSPORT_PATH
    assert transport_for("sentinel://127.0.0.1:26379") is None
    assert transport_for("amqp://guest@127.0.0.1//") is None


def test_ack_after_the_broker_connection_was_closed_is_a_logged_connection_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    broker = PrivateRedis().start()
    try:
        app = make_celery(Settings(redis_url=broker.url))
        conn = app.connection_for_write()
        queue = Queue("q", Exchange("q"), "q")
        with conn.Producer() as producer:
            producer.publish({"n": 1}, exchange=queue.exchange, routing_key="q", declare=[queue])
        received: list[Any] = []
        consumer = conn.Consumer([queue], callbacks=[lambda _body, m: received.append(m)], accept=["json"])
        consumer.consume()
        conn.drain_events(timeout=5)
        message = received[0]
        connection_errors = conn.connection_errors
        # What the worker's consumer does when Redis goes away: its channels drop their pools and
        # the connection is released; the task's message keeps pointing at the old channel.
        broker.stop()
        conn.release()
        message.channel._disconnect_pools()
        broker = PrivateRedis(broker.port).start()

        with caplog.at_level(logging.CRITICAL):
            message.ack_log_error(logging.getLogger("celery.worker.request"), connection_errors)
        assert "Couldn't ack" in caplog.text
        with pytest.raises(StaleChannelError):
            message.channel.qos.reject(message.delivery_tag, requeue=True)
        message.channel.qos.restore_unacked()  # at shutdown: skipped, not an AttributeError
    finally:
        broker.stop()
