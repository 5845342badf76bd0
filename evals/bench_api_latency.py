"""API request latency: `GET /approvals` and `POST /approvals/{id}` validation, p50/p90 over HTTP.

    python -m evals.bench_api_latency [--requests N] [--database embedded,postgres] [--pg-admin URL]

Plans one sprint first (so the list has a pending proposal), then serves the API with uvicorn on a
loopback port exactly as `sprintpilot serve` builds it, and times N sequential requests with
httpx: the list, and a decision the API must refuse after validating it (a stale digest: the
proposal, its pending request and the approver are all checked, nothing is applied; 422). Run on
the embedded default (SQLite + in-process sandbox) and on a fresh Postgres database. Issue 23's goal:
p50 < 20 ms for both, on both.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

TOKEN = "bench-api-token-0123456789"
GOAL_MS = 20.0


def _plan(settings: Any) -> tuple[str, str]:
    from graphs.runner import start_run
    from service.runtime import open_runtime

    with open_runtime(settings) as rt:
        ws = rt.resolve_workspace()
        approver = rt.approver_for(ws, "Product Backlog")
        ctx = rt.context(actor="agent:planner", approver_gid=approver)
        thread_id = uuid.uuid4().hex
        start_run(rt.graph, ctx, thread_id, {"agent": "planner", "args": {"project": "Product Backlog"}})
        return thread_id, str(approver)


def _time(n: int, call: Callable[[], httpx.Response], expect: int) -> list[float]:
    out = []
    for _ in range(n):
        start = time.perf_counter()
        response = call()
        out.append(time.perf_counter() - start)
        if response.status_code != expect:
            raise SystemExit(f"expected {expect}, got {response.status_code}: {response.text[:200]}")
    return out


def measure(data_dir: Path, requests: int, database_url: str | None = None) -> dict[str, list[float]]:
    from service.api import create_api
    from service.api.chat import include_chat
    from service.api.server import BackgroundServer
    from service.db.migrate import migrate
    from service.settings import load_settings

    extra = {"database_url": database_url} if database_url else {}
    settings = load_settings(data_dir=data_dir, api_token=TOKEN, **extra)
    migrate(settings)
    _, approver = _plan(settings)
    # The approver may decide over the API, so the refusal below is the digest check's.
    settings = load_settings(data_dir=data_dir, api_token=TOKEN, approvers=[approver], **extra)
    app = create_api(settings)  # as `sprintpilot serve` builds it
    include_chat(app)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with BackgroundServer(app) as server, httpx.Client(base_url=server.url, timeout=60) as client:
        listed = client.get("/approvals", headers=headers)
        listed.raise_for_status()
        approvals = listed.json()["approvals"]
        if not approvals:
            raise SystemExit("the planned proposal is not listed; nothing to measure")
        pending = approvals[0]["proposal"]
        request = approvals[0]["request"] or {}
        body = {
            "decisions": [{"type": "approve"} for _ in request.get("action_requests") or [{}]],
            "decided_by": approver,
            "digest": "stale-digest",
        }
        return {
            "GET /approvals": _time(requests, lambda: client.get("/approvals", headers=headers), 200),
            "POST /approvals/{id} (refused: stale digest, 422)": _time(
                requests,
                lambda: client.post(f"/approvals/{pending['id']}", json=body, headers=headers),
                422,
            ),
        }


@contextmanager
def _postgres(admin: str) -> Iterator[str]:
    import psycopg

    name = f"sp_bench_api_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{admin.rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _row(database: str, endpoint: str, times: list[float]) -> str:
    ms = sorted(t * 1000 for t in times)
    p50 = statistics.median(ms)
    p90 = ms[min(len(ms) - 1, int(round(0.9 * (len(ms) - 1))))]
    ok = "yes" if p50 < GOAL_MS else "no"
    return f"| {endpoint} | {database} | {len(ms)} | {p50:.1f} | {p90:.1f} | {ms[-1]:.1f} | {ok} |"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--database", default="embedded,postgres", help="embedded, postgres or both")
    parser.add_argument("--pg-admin", default="postgresql://postgres@127.0.0.1:5432/postgres")
    ns = parser.parse_args(argv)
    rows = []
    for database in [d.strip() for d in ns.database.split(",") if d.strip()]:
        with tempfile.TemporaryDirectory(prefix="sp-bench-api-") as tmp:
            if database == "postgres":
                try:
                    with _postgres(ns.pg_admin) as url:
                        result = measure(Path(tmp), ns.requests, url)
                except Exception as err:  # noqa: BLE001 - a missing server is reported, not raised
                    print(f"postgres: not measured ({type(err).__name__}: {str(err).splitlines()[0]})")
                    continue
            elif database == "embedded":
                result = measure(Path(tmp), ns.requests)
            else:
                print(f"unknown database {database!r} (embedded or postgres)")
                return 2
        rows += [_row(database, endpoint, times) for endpoint, times in result.items()]
    print(f"| endpoint | database | requests | p50 ms | p90 ms | max ms | p50 < {GOAL_MS:.0f} ms |")
    print("|---|---|---:|---:|---:|---:|---|")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
