"""API request latency in the embedded default: `GET /approvals` p50/p90 over real HTTP.

    python -m evals.bench_api_latency [--requests N] [--data-dir D]

Plans one sprint first (so the list has a pending proposal to render), then serves the API with
uvicorn on a loopback port exactly as `sprintpilot serve` builds it, and times N sequential
requests with httpx. Embedded mode (SQLite + in-process sandbox) is where per-request runtime
construction used to dominate, so this is the number the process-lifetime split is judged by.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import httpx

TOKEN = "bench-api-token-0123456789"


def _plan(settings: object) -> str:
    from graphs.runner import start_run
    from service.runtime import open_runtime

    with open_runtime(settings) as rt:  # type: ignore[arg-type]
        ws = rt.resolve_workspace()
        ctx = rt.context(actor="agent:planner", approver_gid=rt.approver_for(ws, "Product Backlog"))
        thread_id = uuid.uuid4().hex
        start_run(rt.graph, ctx, thread_id, {"agent": "planner", "args": {"project": "Product Backlog"}})
        return thread_id


def measure(data_dir: Path, requests: int) -> list[float]:
    from service.api import create_api
    from service.api.chat import include_chat
    from service.api.server import BackgroundServer
    from service.db.migrate import migrate
    from service.settings import load_settings

    settings = load_settings(data_dir=data_dir, api_token=TOKEN)
    migrate(settings)
    _plan(settings)
    app = create_api(settings)  # as `sprintpilot serve` builds it
    include_chat(app)
    times: list[float] = []
    with BackgroundServer(app) as server, httpx.Client(base_url=server.url, timeout=60) as client:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        first = client.get("/approvals", headers=headers)
        first.raise_for_status()
        if not first.json()["approvals"]:
            raise SystemExit("the planned proposal is not listed; nothing to measure")
        for _ in range(requests):
            start = time.perf_counter()
            client.get("/approvals", headers=headers).raise_for_status()
            times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--data-dir", type=Path, default=None)
    ns = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sp-bench-api-") as tmp:
        times = measure(ns.data_dir or Path(tmp), ns.requests)
    ms = sorted(t * 1000 for t in times)
    p90 = ms[min(len(ms) - 1, int(round(0.9 * (len(ms) - 1))))]
    print("| endpoint | requests | p50 ms | p90 ms | max ms |")
    print("|---|---|---|---|---|")
    print(
        f"| GET /approvals (embedded) | {len(ms)} | {statistics.median(ms):.1f} | {p90:.1f} | {ms[-1]:.1f} |"
    )


if __name__ == "__main__":
    main()
