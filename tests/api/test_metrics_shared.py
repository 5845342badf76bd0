"""/metrics reports shared state: runs by agent from the DB, Asana calls of every process via Redis."""

from __future__ import annotations

from pathlib import Path

import redis
from fastapi.testclient import TestClient

from service.api import create_api
from service.db.engine import make_engine
from service.db.migrate import migrate
from service.db.proposals import SqlProposalRepository
from service.metrics import ASANA_429_KEY, ASANA_CALLS_KEY, RedisCallTotals
from service.settings import load_settings


def test_metrics_show_runs_and_shared_asana_calls(tmp_path: Path, pg_url: str, redis_url: str) -> None:
    r = redis.Redis.from_url(redis_url)
    r.delete(ASANA_CALLS_KEY, ASANA_429_KEY)
    settings = load_settings(data_dir=tmp_path, database_url=pg_url, redis_url=redis_url)
    migrate(settings)
    engine = make_engine(settings)
    SqlProposalRepository(engine).record_run("t-1", "planner", "cli", {})
    # Another process (a worker) counted its calls into the shared totals.
    sink = RedisCallTotals(redis_url)
    sink("call", "GET /projects/{gid}/tasks")
    sink("call", "GET /projects/{gid}/tasks")
    sink("429", "POST /tasks")
    try:
        with TestClient(create_api(settings)) as client:
            text = client.get("/metrics").text
        assert 'asana_calls_all_total{method="GET /projects/{gid}/tasks"} 2.0' in text
        assert "asana_rate_limited_all_total 1.0" in text
        assert 'agent_runs{agent="planner",status="running"} 1.0' in text
    finally:
        r.delete(ASANA_CALLS_KEY, ASANA_429_KEY)
        engine.dispose()
