"""Web console cost: page weight and server time of `GET /inbox`, against `GET /approvals`.

    python -m evals.bench_console [--proposals 1,100,500] [--requests 20] [--data-dir D]

The inbox lists what `service.approvals.pending` finds: a `pending` proposal row whose thread's
latest checkpoint holds an interrupt naming that proposal (one `graph.get_state` per row, exactly
as the API does). Planning 500 sprints through the graph would take ~25 min, so one plan runs
through the graph and is then *cloned*: each clone is a new proposal row (`save_proposal`, new id,
same actions) on a new thread whose checkpoint is a copy of the real gate checkpoint, with the
pending `__interrupt__` write naming the clone. The pages therefore read real rows and real
checkpoints (the full query path: SQL, checkpoint load, visibility filter, rendering), without
the planner's cost. The counts in --proposals are measured in order in one run (clones added
between them) to show how both endpoints scale with the queue.

Server time is the wall time of sequential requests over loopback keep-alive (uvicorn in this
process, as `sprintpilot serve` builds the app); p50/p95 over --requests after one warm-up.
Page weight is the HTML of /inbox plus every stylesheet it links (what a browser must fetch
before first paint; scripts are reported separately). The API is measured with `?user=` (the
same visibility filter the signed-in console applies) and without.
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import httpx

TOKEN = "bench-console-token-0123456789"
USER = "priya.brooks@acme.example"  # the seeded scrum master: sees the backlog, may approve
BACKLOG = "Product Backlog"


@dataclass
class Timing:
    label: str
    proposals: int
    rows: int
    p50_ms: float
    p95_ms: float
    body_bytes: int


def _percentile(sorted_ms: list[float], q: float) -> float:
    return sorted_ms[min(len(sorted_ms) - 1, int(round(q * (len(sorted_ms) - 1))))]


def _plan(rt: Any) -> str:
    """One real planner run stopped at the gate; returns its thread id."""
    from graphs.runner import start_run

    ws = rt.resolve_workspace()
    ctx = rt.context(actor="agent:planner", approver_gid=rt.approver_for(ws, BACKLOG))
    thread_id = uuid.uuid4().hex
    outcome = start_run(rt.graph, ctx, thread_id, {"agent": "planner", "args": {"project": BACKLOG}})
    if outcome.status != "awaiting_approval":
        raise SystemExit(f"the planner did not stop at the gate ({outcome.status})")
    return thread_id


def _clone(rt: Any, source_thread: str, count: int) -> None:
    """`count` more pending proposals, each on its own thread with a copy of the gate checkpoint."""
    from langgraph.types import Interrupt

    interrupt_channel = "__interrupt__"  # langgraph's (private since 1.0) INTERRUPT channel

    saver = rt.graph.checkpointer
    source = saver.get_tuple({"configurable": {"thread_id": source_thread, "checkpoint_ns": ""}})
    record = next(p for p in rt.repo.pending_approvals() if p.thread_id == source_thread)
    run = rt.repo.get_run(source_thread)
    for _ in range(count):
        thread_id = uuid.uuid4().hex
        proposal = record.proposal.model_copy(update={"id": uuid.uuid4().hex})
        if run is not None:
            rt.repo.record_run(thread_id, run.agent, run.trigger, run.request)
        rt.repo.save_proposal(thread_id, proposal, "pending")
        config = {"configurable": {"thread_id": thread_id, "checkpoint_ns": ""}}
        stored = saver.put(
            config, source.checkpoint, source.metadata, dict(source.checkpoint["channel_versions"])
        )
        writes: dict[str, list[tuple[str, Any]]] = defaultdict(list)
        for task_id, channel, value in source.pending_writes or []:
            if channel == interrupt_channel:
                value = [
                    Interrupt(
                        value={**i.value, "proposal_id": proposal.id, "digest": proposal.digest()}, id=i.id
                    )
                    for i in value
                ]
            writes[task_id].append((channel, value))
        for task_id, task_writes in writes.items():
            saver.put_writes(stored, task_writes, task_id)


def _sign_in(client: httpx.Client) -> None:
    form = client.get("/login")
    form.raise_for_status()
    match = re.search(r'name="csrf"\s+value="([^"]+)"', form.text) or re.search(
        r'value="([^"]+)"\s+name="csrf"', form.text
    )
    if match is None:
        raise SystemExit("/login has no csrf field; is the console mounted?")
    reply = client.post(
        "/login", data={"token": TOKEN, "user": USER, "csrf": match.group(1), "next": "/inbox"}
    )
    if reply.status_code != 303 or not reply.headers.get("location", "").startswith("/inbox"):
        raise SystemExit(f"sign-in failed: {reply.status_code} {reply.text[:200]}")


def _time(
    client: httpx.Client, path: str, requests: int, headers: dict[str, str] | None = None
) -> list[float]:
    client.get(path, headers=headers).raise_for_status()  # warm-up
    times = []
    for _ in range(requests):
        start = time.perf_counter()
        client.get(path, headers=headers).raise_for_status()
        times.append((time.perf_counter() - start) * 1000)
    return sorted(times)


def _page_weight(client: httpx.Client, html: str) -> tuple[int, int, int]:
    """(HTML bytes, linked CSS bytes, linked script bytes) of one page."""
    css = scripts = 0
    for tag in re.findall(r"<link\b[^>]*>", html):
        href = re.search(r'href="([^"]+)"', tag)
        if href and re.search(r'rel="?stylesheet', tag):
            css += len(client.get(urljoin("/", href.group(1))).content)
    for src in re.findall(r'<script\b[^>]*\bsrc="([^"]+)"', html):
        scripts += len(client.get(urljoin("/", src)).content)
    return len(html.encode()), css, scripts


def measure(
    data_dir: Path, counts: list[int], requests: int
) -> tuple[list[Timing], dict[int, tuple[int, int, int]]]:
    from service.api import create_api
    from service.api.server import BackgroundServer
    from service.runtime import open_runtime
    from service.settings import load_settings

    settings = load_settings(
        data_dir=data_dir, asana_base_url=None, model="offline", api_token=TOKEN, approvers=[USER]
    )
    with open_runtime(settings) as rt:  # migrates; the sandbox is saved for the app on exit
        source = _plan(rt)
    timings: list[Timing] = []
    weights: dict[int, tuple[int, int, int]] = {}
    have = 1
    app = create_api(settings)  # as `sprintpilot serve` builds it (API + console)
    api_headers = {"Authorization": f"Bearer {TOKEN}"}
    with (
        BackgroundServer(app) as server,
        httpx.Client(base_url=server.url, timeout=120) as console,
        httpx.Client(base_url=server.url, timeout=120) as api,
    ):
        _sign_in(console)
        for count in counts:
            if count > have:
                with app.state.api.runtime_factory() as shared:
                    _clone(shared, source, count - have)
                have = count
            html = console.get("/inbox").text
            rows = len(re.findall(r"<tr\b[^>]*\bdata-proposal-id=", html))
            weights[count] = _page_weight(console, html)
            listed = api.get("/approvals", headers=api_headers)
            listed.raise_for_status()
            filtered = api.get("/approvals", params={"user": USER}, headers=api_headers)
            for label, client, path, headers, body, n in (
                ("console GET /inbox", console, "/inbox", None, len(html.encode()), rows),
                (
                    "API GET /approvals?user=",
                    api,
                    f"/approvals?user={USER}",
                    api_headers,
                    len(filtered.content),
                    len(filtered.json()["approvals"]),
                ),
                (
                    "API GET /approvals",
                    api,
                    "/approvals",
                    api_headers,
                    len(listed.content),
                    len(listed.json()["approvals"]),
                ),
            ):
                ms = _time(client, path, requests, headers)
                timings.append(Timing(label, count, n, statistics.median(ms), _percentile(ms, 0.95), body))
    return timings, weights


def report(timings: list[Timing], weights: dict[int, tuple[int, int, int]], requests: int) -> str:
    lines = [
        "| endpoint | pending | rows shown | body KiB | p50 ms | p95 ms | × API (?user=, p50) |",
        "|---|---|---|---|---|---|---|",
    ]
    base = {t.proposals: t.p50_ms for t in timings if t.label == "API GET /approvals?user="}
    for t in timings:
        ratio = t.p50_ms / base[t.proposals] if base.get(t.proposals) else float("nan")
        lines.append(
            f"| {t.label} | {t.proposals} | {t.rows} | {t.body_bytes / 1024:.1f} | {t.p50_ms:.1f} | "
            f"{t.p95_ms:.1f} | {ratio:.2f} |"
        )
    lines += ["", f"({requests} sequential requests each, after one warm-up)", ""]
    lines += [
        "| /inbox page weight | pending | HTML KiB | CSS KiB | HTML+CSS KiB | scripts KiB |",
        "|---|---|---|---|---|---|",
    ]
    for count, (html, css, js) in weights.items():
        lines.append(
            f"| /inbox | {count} | {html / 1024:.1f} | {css / 1024:.1f} | "
            f"{(html + css) / 1024:.1f} | {js / 1024:.1f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--proposals", default="1,100,500", help="pending counts to measure, ascending")
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--data-dir", type=Path, default=None)
    ns = parser.parse_args()
    counts = sorted({int(c) for c in ns.proposals.split(",") if c.strip()})
    if not counts or counts[0] < 1:
        raise SystemExit("--proposals: counts of at least 1")
    with tempfile.TemporaryDirectory(prefix="sp-bench-console-") as tmp:
        timings, weights = measure(ns.data_dir or Path(tmp), counts, ns.requests)
    print(report(timings, weights, ns.requests))


if __name__ == "__main__":
    main()
