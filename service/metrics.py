"""Prometheus metrics shared by the API and the worker (one registry per process, built on demand).

Nothing is registered at import time: `create_metrics()` builds a private `CollectorRegistry`,
so tests and several apps in one process never collide. Counters live in the process that
increments them (the API counts ingest, the worker counts runs and Asana calls); gauges that
describe shared state (approvals pending, inbox backlog) are computed from the database when
scraped, so every process reports the same value.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector
from sqlalchemy import Engine, func, select

CONTENT_TYPE = CONTENT_TYPE_LATEST


@dataclass(frozen=True)
class Metrics:
    registry: CollectorRegistry
    events_received: Counter  # labels: source (webhook | events_api)
    events_deduplicated: Counter
    events_rejected: Counter  # labels: reason
    runs: Counter  # labels: agent, outcome
    asana_calls: Counter  # labels: method
    asana_rate_limited: Counter
    messages_quarantined: Counter
    approvals_pending: Gauge

    def render(self) -> bytes:
        """The registry in the Prometheus text exposition format."""
        return generate_latest(self.registry)


def create_metrics(approvals_pending: Callable[[], float] | None = None) -> Metrics:
    """A fresh registry with every sprintpilot metric; `approvals_pending` is called per scrape."""
    registry = CollectorRegistry(auto_describe=True)
    gauge = Gauge("approvals_pending", "Proposals waiting for a human decision", registry=registry)
    if approvals_pending is not None:
        gauge.set_function(approvals_pending)
    return Metrics(
        registry=registry,
        events_received=Counter("events_received", "Asana events received", ["source"], registry=registry),
        events_deduplicated=Counter(
            "events_deduplicated",
            "Events dropped because an identical event was already stored",
            registry=registry,
        ),
        events_rejected=Counter("events_rejected", "Webhook requests refused", ["reason"], registry=registry),
        runs=Counter("runs", "Graph runs finished", ["agent", "outcome"], registry=registry),
        asana_calls=Counter("asana_calls", "Asana API calls made", ["method"], registry=registry),
        asana_rate_limited=Counter("asana_rate_limited", "Asana answers with status 429", registry=registry),
        messages_quarantined=Counter(
            "messages_quarantined",
            "Event messages moved to quarantine after repeated failures",
            registry=registry,
        ),
        approvals_pending=gauge,
    )


def pending_approvals_counter(engine: Engine) -> Callable[[], float]:
    """A scrape-time reader of how many proposals wait at the gate (NaN if the DB is down)."""
    from service.db.models import ProposalRow, ProposalStatus

    def count() -> float:
        try:
            with engine.connect() as conn:
                stmt = select(func.count()).where(ProposalRow.status == ProposalStatus.PENDING.value)
                return float(conn.execute(stmt).scalar_one())
        except Exception:  # noqa: BLE001 - a scrape must not fail because the DB is briefly away
            return float("nan")

    return count


class InboxCollector(Collector):
    """`inbox_events{status}` and `outbox_unpublished`, read from the database at scrape time."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[Metric]:
        from service.db.events import InboxEvent, InboxStatus, OutboxMessage

        inbox = GaugeMetricFamily("inbox_events", "Inbox rows by status", labels=["status"])
        outbox = GaugeMetricFamily("outbox_unpublished", "Outbox rows not yet published to the broker")
        try:
            with self.engine.connect() as conn:
                counts: dict[str, int] = {
                    str(s): int(n)
                    for s, n in conn.execute(
                        select(InboxEvent.status, func.count()).group_by(InboxEvent.status)
                    )
                }
                backlog = conn.execute(
                    select(func.count()).where(OutboxMessage.published_at.is_(None))
                ).scalar_one()
        except Exception:  # noqa: BLE001 - report nothing rather than fail the scrape
            return
        for status in InboxStatus:
            inbox.add_metric([status.value], counts.get(status.value, 0))
        outbox.add_metric([], int(backlog))
        yield inbox
        yield outbox

    def describe(self) -> Iterable[Metric]:
        return []


def create_db_metrics(engine: Engine) -> Metrics:
    """`create_metrics` with the database-backed gauges wired to `engine`."""
    metrics = create_metrics(pending_approvals_counter(engine))
    metrics.registry.register(InboxCollector(engine))
    return metrics
