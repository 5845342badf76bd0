"""`/healthz` and `/metrics`, and JSON errors everywhere."""

from __future__ import annotations

import httpx
import pytest

from tests.api.conftest import Api, body_of, event, sign

pytestmark = pytest.mark.integration


def test_healthz_reports_db_and_redis(api: Api) -> None:
    reply = httpx.get(f"{api.url}/healthz", timeout=10)
    assert reply.status_code == 200
    body = reply.json()
    assert body["status"] == "ok" and body["db"] == "ok"
    assert body["redis"] in {"ok", "unreachable"}


def test_healthz_survives_redis_down(api: Api) -> None:
    api.settings.redis_url = "redis://127.0.0.1:1/0"
    reply = httpx.get(f"{api.url}/healthz", timeout=10)
    assert reply.status_code == 200
    assert reply.json() == {"status": "ok", "db": "ok", "redis": "unreachable"}


def test_healthz_fails_when_the_db_is_gone(api: Api, pg_admin_url: str) -> None:
    import psycopg

    api.engine.dispose()
    name = api.settings.db_url.rsplit("/", 1)[1]
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
    try:
        reply = httpx.get(f"{api.url}/healthz", timeout=10)
        assert reply.status_code == 503
        assert reply.json()["db"] == "unreachable"
    finally:
        with psycopg.connect(pg_admin_url, autocommit=True) as conn:
            conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')


def test_metrics_expose_the_pipeline_counters(api: Api) -> None:
    secret = "s3cret"
    nonce, _ = api.subscribe(secret)
    body = body_of(event("1"))
    for _ in range(3):
        api.deliver(nonce, body, sign(secret, body))
    api.deliver(nonce, body, "0" * 64)
    api.metrics.runs.labels("planner", "done").inc()
    text = httpx.get(f"{api.url}/metrics", timeout=10).text
    for line in (
        'events_received_total{source="webhook"} 3.0',
        "events_deduplicated_total 2.0",
        'events_rejected_total{reason="bad_signature"} 1.0',
        'runs_total{agent="planner",outcome="done"} 1.0',
        "approvals_pending 0.0",
        'inbox_events{status="new"} 1.0',
        "outbox_unpublished 1.0",
        "asana_rate_limited_total 0.0",
        "messages_quarantined_total 0.0",
    ):
        assert line in text, line
    assert "# TYPE asana_calls_total counter" in text


def test_errors_are_json(api: Api) -> None:
    missing = httpx.get(f"{api.url}/nowhere", timeout=10)
    assert missing.status_code == 404 and missing.json() == {"error": "Not Found"}
    wrong_method = httpx.get(f"{api.url}/webhooks/asana", timeout=10)
    assert wrong_method.status_code == 405 and "error" in wrong_method.json()
