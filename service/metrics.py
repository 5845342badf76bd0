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


ASANA_CALLS_KEY = "sprintpilot:metrics:asana_calls"
ASANA_429_KEY = "sprintpilot:metrics:asana_rate_limited"


class RedisCallTotals:
    """Adds every Asana call (and 429) of this process to totals in Redis, shared by all processes.

    Attached to an AsanaClient's counter (`client.calls.listeners.append(sink)`) by the API and the
    workers, so `/metrics` reports the calls the workers make too. A Redis outage only drops counts.
    """

    def __init__(self, redis_url: str) -> None:
        import redis

        self._redis = redis.Redis.from_url(redis_url, socket_timeout=0.2, socket_connect_timeout=0.2)

    def __call__(self, event: str, label: str) -> None:
        key = ASANA_429_KEY if event == "429" else ASANA_CALLS_KEY
        self._redis.hincrby(key, label, 1)


class AsanaTotalsCollector(Collector):
    """`asana_calls_all_total{method}` and `asana_rate_limited_all_total`, read from Redis per scrape."""

    def __init__(self, redis_url: str) -> None:
        import redis

        self._redis = redis.Redis.from_url(redis_url, socket_timeout=0.5, socket_connect_timeout=0.5)

    def collect(self) -> Iterator[Metric]:
        from prometheus_client.core import CounterMetricFamily

        try:
            calls = self._redis.hgetall(ASANA_CALLS_KEY)
            limited = self._redis.hgetall(ASANA_429_KEY)
        except Exception:  # noqa: BLE001 - report nothing rather than fail the scrape
            return
        family = CounterMetricFamily(
            "asana_calls_all", "Asana API calls made by every sprintpilot process", labels=["method"]
        )
        for label, n in sorted(calls.items()):
            family.add_metric([label.decode() if isinstance(label, bytes) else str(label)], int(n))
        yield family
        yield CounterMetricFamily(
            "asana_rate_limited_all",
            "Asana 429 answers seen by every sprintpilot process",
            value=sum(int(n) for n in limited.values()),
        )

    def describe(self) -> Iterable[Metric]:
        return []


class RunsCollector(Collector):
    """`agent_runs{agent,status}`: runs by agent and outcome, from the database (all processes)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[Metric]:
        from service.db.models import Run

        family = GaugeMetricFamily("agent_runs", "Graph runs by agent and status", labels=["agent", "status"])
        try:
            with self.engine.connect() as conn:
                stmt = select(Run.agent, Run.status, func.count()).group_by(Run.agent, Run.status)
                for agent, status, n in conn.execute(stmt):
                    family.add_metric([str(agent), str(status)], int(n))
        except Exception:  # noqa: BLE001
            return
        yield family

    def describe(self) -> Iterable[Metric]:
        return []


LATENCY_BUCKETS_S = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)


class ModelCallsCollector(Collector):
    """Model calls from the database (every process's; tools/llm/usage.py records them):
    `sprintpilot_model_calls_total{model,agent,outcome}` (ok | invalid | error),
    `sprintpilot_model_tokens_total{model,agent,direction}` (in | out),
    `sprintpilot_model_retries_total{model,agent}` (the client's re-sends),
    `sprintpilot_model_fallbacks_total{model,agent}` (writes that fell back to the offline writer),
    `sprintpilot_model_call_latency_seconds{model,agent}` (histogram)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[Metric]:
        from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily
        from sqlalchemy import case

        from service.db.model_calls import ModelCallRow as Row

        calls = CounterMetricFamily(
            "sprintpilot_model_calls", "Model calls by outcome", labels=["model", "agent", "outcome"]
        )
        tokens = CounterMetricFamily(
            "sprintpilot_model_tokens",
            "Tokens sent to and received from models",
            labels=["model", "agent", "direction"],
        )
        retries = CounterMetricFamily(
            "sprintpilot_model_retries", "Model requests re-sent by the client", labels=["model", "agent"]
        )
        fallbacks = CounterMetricFamily(
            "sprintpilot_model_fallbacks",
            "Model-written texts replaced by the offline writer",
            labels=["model", "agent"],
        )
        latency = HistogramMetricFamily(
            "sprintpilot_model_call_latency_seconds", "Model call latency", labels=["model", "agent"]
        )
        is_call = Row.outcome != "fallback"
        buckets = [
            func.sum(case((is_call & (Row.latency_ms <= b * 1000), 1), else_=0)) for b in LATENCY_BUCKETS_S
        ]
        try:
            with self.engine.connect() as conn:
                by_outcome = conn.execute(
                    select(Row.model, Row.agent, Row.outcome, func.count()).group_by(
                        Row.model, Row.agent, Row.outcome
                    )
                ).all()
                sums = conn.execute(
                    select(
                        Row.model,
                        Row.agent,
                        func.sum(Row.tokens_in),
                        func.sum(Row.tokens_out),
                        func.sum(Row.retries),
                        func.sum(case((is_call, Row.latency_ms), else_=0.0)),
                        func.sum(case((is_call, 1), else_=0)),
                        *buckets,
                    ).group_by(Row.model, Row.agent)
                ).all()
        except Exception:  # noqa: BLE001 - report nothing rather than fail the scrape
            return
        for model, agent, outcome, n in by_outcome:
            labels = [str(model), str(agent)]
            if outcome == "fallback":
                fallbacks.add_metric(labels, int(n))
            else:
                calls.add_metric([*labels, str(outcome)], int(n))
        for model, agent, t_in, t_out, n_retries, ms, n_calls, *cumulative in sums:
            labels = [str(model), str(agent)]
            tokens.add_metric([*labels, "in"], int(t_in or 0))
            tokens.add_metric([*labels, "out"], int(t_out or 0))
            retries.add_metric(labels, int(n_retries or 0))
            if n_calls:
                edges = [(f"{b:g}", int(c or 0)) for b, c in zip(LATENCY_BUCKETS_S, cumulative, strict=True)]
                latency.add_metric(labels, [*edges, ("+Inf", int(n_calls))], float(ms or 0) / 1000)
        yield from (calls, tokens, retries, fallbacks, latency)

    def describe(self) -> Iterable[Metric]:
        return []


class ScorecardCollector(Collector):
    """`sprintpilot_scorecard{portfolio,agent,metric}` (and `_samples`, the count behind each): the
    newest scorecard per portfolio, as the scheduled scorecard run stored it in its proposal's
    evidence (service/schedules/scorecard.py). A scrape reads one row per portfolio; it never
    recomputes the scorecard (that reads Asana and the whole proposal history)."""

    def __init__(self, engine: Engine, newest: int = 50) -> None:
        self.engine = engine
        self.newest = newest

    def collect(self) -> Iterator[Metric]:
        from service.db.models import ProposalRow

        value = GaugeMetricFamily(
            "sprintpilot_scorecard",
            "Accuracy of sprintpilot's own predictions per agent (live scorecard)",
            labels=["portfolio", "agent", "metric"],
        )
        samples = GaugeMetricFamily(
            "sprintpilot_scorecard_samples",
            "How many predictions each scorecard number rests on",
            labels=["portfolio", "agent", "metric"],
        )
        stmt = (
            select(ProposalRow.body)
            .where(ProposalRow.agent == "scorecard", ProposalRow.status.not_in(("error", "denied")))
            .order_by(ProposalRow.created_at.desc())
            .limit(self.newest)
        )
        try:
            with self.engine.connect() as conn:
                bodies = [row[0] for row in conn.execute(stmt)]
        except Exception:  # noqa: BLE001 - report nothing rather than fail the scrape
            return
        seen: set[str] = set()
        for body in bodies:
            evidence = (body or {}).get("evidence") or {}
            portfolio = str(evidence.get("portfolio_name") or evidence.get("portfolio_gid") or "")
            if not portfolio or portfolio in seen:
                continue
            seen.add(portfolio)
            for row in evidence.get("rows") or []:
                labels = [portfolio, str(row["agent"]), str(row["metric"])]
                samples.add_metric(labels, int(row.get("n") or 0))
                if row.get("value") is not None:
                    value.add_metric(labels, float(row["value"]))
        yield value
        yield samples

    def describe(self) -> Iterable[Metric]:
        return []


def create_db_metrics(engine: Engine, redis_url: str | None = None) -> Metrics:
    """`create_metrics` with the shared-state gauges: DB (approvals, inbox, runs) and Redis totals."""
    metrics = create_metrics(pending_approvals_counter(engine))
    metrics.registry.register(InboxCollector(engine))
    metrics.registry.register(RunsCollector(engine))
    metrics.registry.register(ModelCallsCollector(engine))
    metrics.registry.register(ScorecardCollector(engine))
    if redis_url:
        metrics.registry.register(AsanaTotalsCollector(redis_url))
    return metrics
