"""Benchmark: the sandbox's own serving rate for task lists, plain against `opt_fields`.

    python -m evals.bench_sandbox [--tasks 2000] [--seconds 3] [--clients 1,4] [--in-process]

Starts the sandbox (uvicorn, as `SandboxServer` runs it) on a generated workspace with a large
project, in a child process by default so the clients' own CPU does not share its interpreter,
then has 1 and 4 concurrent clients (threads, one httpx connection each) page through
`GET /projects/{gid}/tasks?limit=100`, once plain (compact records) and once with the
`opt_fields` the planner really sends (`TaskView.PLANNING`). Prints requests/s, p50 and p99 per
case and the issue 23 goals beside their references from the same run: opt_fields within 1.5x
of plain reads, and >= 300 requests/s with 4 clients. Exits 1 when a goal is missed.

It also prints the in-process cost of one page (render + encode, no HTTP), CPU time, for the list
path (`Renderer.render_many`: compiled plans) beside the record-by-record path (`Renderer.render`
per task, the generic field loop) in the same run.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import statistics
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from multiprocessing.connection import Connection
from typing import Any

import httpx

from tools.asana import TaskView

PAGE_LIMIT = "100"
GOAL_RATIO = 1.5
GOAL_RPS_4 = 300.0


@dataclass
class Case:
    name: str
    clients: int
    requests: int
    wall_s: float
    p50_ms: float
    p99_ms: float
    # The server's CPU per request (child process only): load on the machine does not bend it.
    server_cpu_ms: float | None = None

    @property
    def rps(self) -> float:
        return self.requests / self.wall_s if self.wall_s else 0.0


def _build(n_tasks: int, n_edges: int, seed: int) -> tuple[Any, str]:
    # The sandbox is a test double: imported here so evals' other modules never depend on it.
    from sandbox.generator import generate_workspace
    from sandbox.generator_scale import generate_large_project

    generated = generate_workspace(seed=seed)
    large = generate_large_project(generated, n_tasks, n_edges, seed=seed)
    return generated, large.project_gid


def _serve(n_tasks: int, n_edges: int, seed: int, conn: Connection) -> None:
    """Child process: serve the generated workspace; answer "cpu" with its CPU seconds so far."""
    from sandbox.server import SandboxServer

    generated, project_gid = _build(n_tasks, n_edges, seed)
    with SandboxServer(generated.store, token=generated.token) as server:
        conn.send((server.base_url, server.token, project_gid))
        while conn.recv() == "cpu":
            conn.send(time.process_time())


def _client_loop(
    base_url: str, token: str, path: str, params: dict[str, str], stop_at: float, out: list[float]
) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=30) as client:
        client.get(path, params=params).raise_for_status()  # warm the connection
        while True:
            started = time.perf_counter()
            if started >= stop_at:
                return
            response = client.get(path, params=params)
            response.raise_for_status()
            out.append(time.perf_counter() - started)


def measure(
    base_url: str,
    token: str,
    path: str,
    name: str,
    params: dict[str, str],
    clients: int,
    seconds: float,
    cpu: Callable[[], float] | None = None,
) -> Case:
    latencies: list[list[float]] = [[] for _ in range(clients)]
    stop_at = time.perf_counter() + seconds
    threads = [
        threading.Thread(target=_client_loop, args=(base_url, token, path, params, stop_at, latencies[i]))
        for i in range(clients)
    ]
    cpu_before = cpu() if cpu else 0.0
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    cpu_used = cpu() - cpu_before if cpu else None
    samples = sorted(s for per in latencies for s in per)
    p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))] if samples else 0.0
    p50 = statistics.median(samples) if samples else 0.0
    # + one warm-up request per client
    per_request = cpu_used * 1000 / (len(samples) + clients) if cpu_used is not None and samples else None
    return Case(name, clients, len(samples), wall, p50 * 1000, p99 * 1000, per_request)


def run(
    n_tasks: int, n_edges: int, seconds: float, client_counts: list[int], seed: int, in_process: bool
) -> list[Case]:
    if in_process:
        from sandbox.server import SandboxServer

        generated, project_gid = _build(n_tasks, n_edges, seed)
        with SandboxServer(generated.store, token=generated.token) as server:
            return _all_cases(server.base_url, server.token, project_gid, seconds, client_counts, None)
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    process = ctx.Process(target=_serve, args=(n_tasks, n_edges, seed, child), daemon=True)
    process.start()
    try:
        base_url, token, project_gid = parent.recv()

        def server_cpu() -> float:
            parent.send("cpu")
            return float(parent.recv())

        return _all_cases(base_url, token, project_gid, seconds, client_counts, server_cpu)
    finally:
        parent.send("stop")
        process.join(timeout=15)


def _all_cases(
    base_url: str,
    token: str,
    project_gid: str,
    seconds: float,
    client_counts: list[int],
    cpu: Callable[[], float] | None,
) -> list[Case]:
    path = f"/projects/{project_gid}/tasks"
    plain = {"limit": PAGE_LIMIT}
    fields = {"limit": PAGE_LIMIT, "opt_fields": TaskView.PLANNING.opt_fields}
    cases: list[Case] = []
    for clients in client_counts:
        cases.append(measure(base_url, token, path, "plain", plain, clients, seconds, cpu))
        cases.append(measure(base_url, token, path, "opt_fields", fields, clients, seconds, cpu))
    return cases


def page_costs(n_tasks: int, n_edges: int, seed: int, rounds: int = 5) -> list[tuple[str, float, float]]:
    """(fields, list path ms/page, record-by-record ms/page): best CPU of `rounds` over every page."""
    from sandbox.optfields import parse_opt_fields

    generated, project_gid = _build(n_tasks, n_edges, seed)
    store = generated.store
    gids = store.project_tasks(project_gid)
    size = int(PAGE_LIMIT)
    pages = [[store.tasks[g] for g in gids[i : i + size]] for i in range(0, len(gids), size)]
    rows = []
    for name, raw in (("plain", None), ("opt_fields", TaskView.PLANNING.opt_fields)):
        tree = parse_opt_fields(raw)
        costs = []
        for one_by_one in (False, True):
            best = float("inf")
            for _ in range(rounds):
                started = time.process_time()
                _encode_pages(store, pages, tree, one_by_one)
                best = min(best, time.process_time() - started)
            costs.append(best * 1000 / len(pages))
        rows.append((name, costs[0], costs[1]))
    return rows


def _encode_pages(store: Any, pages: list[list[Any]], tree: Any, one_by_one: bool) -> None:
    from sandbox.context import encode_json
    from sandbox.serialize import Renderer

    for page in pages:
        renderer = Renderer(store)
        with store.lock:
            if one_by_one:
                data = [renderer.render(t, tree, full=False) for t in page]
            else:
                data = renderer.render_many(page, tree)
        encode_json({"data": data})


def goals(cases: list[Case]) -> list[tuple[str, str, str, bool]]:
    """(goal, figure, reference, met) rows, each figure beside its reference from this run."""
    by = {(c.name, c.clients): c for c in cases}
    rows: list[tuple[str, str, str, bool]] = []
    for clients in sorted({c.clients for c in cases}):
        plain, opt = by[("plain", clients)], by[("opt_fields", clients)]
        ratio = plain.rps / opt.rps if opt.rps else float("inf")
        rows.append(
            (
                f"opt_fields within {GOAL_RATIO}x of plain ({clients} client{'s' if clients > 1 else ''})",
                f"{opt.rps:.0f} req/s ({ratio:.2f}x slower)",
                f"plain {plain.rps:.0f} req/s",
                ratio <= GOAL_RATIO,
            )
        )
    if 4 in {c.clients for c in cases}:
        opt4, plain4 = by[("opt_fields", 4)], by[("plain", 4)]
        rows.append(
            (
                f">= {GOAL_RPS_4:.0f} req/s with 4 clients (opt_fields)",
                f"{opt4.rps:.0f} req/s, p99 {opt4.p99_ms:.1f} ms",
                f"plain {plain4.rps:.0f} req/s, p99 {plain4.p99_ms:.1f} ms",
                opt4.rps >= GOAL_RPS_4,
            )
        )
    if (
        1 in {c.clients for c in cases}
        and by[("plain", 1)].server_cpu_ms
        and by[("opt_fields", 1)].server_cpu_ms
    ):
        plain_cpu, opt_cpu = by[("plain", 1)].server_cpu_ms or 0.0, by[("opt_fields", 1)].server_cpu_ms or 0.0
        rows.append(
            (
                f"opt_fields server CPU within {GOAL_RATIO}x of plain (load-independent)",
                f"{opt_cpu:.2f} ms/request ({opt_cpu / plain_cpu:.2f}x), "
                f"one core serves {1000 / opt_cpu:.0f} req/s",
                f"plain {plain_cpu:.2f} ms/request, one core serves {1000 / plain_cpu:.0f} req/s",
                opt_cpu <= GOAL_RATIO * plain_cpu,
            )
        )
    return rows


def render(cases: list[Case]) -> str:
    lines = [
        "Sandbox serving benchmark: GET /projects/{gid}/tasks?limit=100 (plain vs opt_fields=PLANNING)",
        f"{'case':<12}{'clients':>8}{'requests':>10}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'server CPU ms/req':>19}",
    ]
    for c in cases:
        cpu = f"{c.server_cpu_ms:.2f}" if c.server_cpu_ms is not None else "-"
        lines.append(
            f"{c.name:<12}{c.clients:>8}{c.requests:>10}{c.rps:>9.0f}{c.p50_ms:>9.1f}{c.p99_ms:>9.1f}{cpu:>19}"
        )
    lines.append("goals (figure | reference, same run):")
    for goal, figure, reference, met in goals(cases):
        lines.append(f"  {'OK  ' if met else 'MISS'} {goal}: {figure} | {reference}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--tasks", type=int, default=2000)
    parser.add_argument("--edges", type=int, default=3000)
    parser.add_argument("--seconds", type=float, default=3.0, help="duration of each case")
    parser.add_argument("--clients", default="1,4", help="comma list of concurrent client counts")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--in-process", action="store_true", help="serve from this process (shares the GIL)")
    parser.add_argument("--json", dest="json_path", help="also write the cases as JSON here")
    args = parser.parse_args(argv)
    counts = [int(n) for n in args.clients.split(",") if n.strip()]
    cases = run(args.tasks, args.edges, args.seconds, counts, args.seed, args.in_process)
    print(render(cases))
    print("one page in process (render + encode, no HTTP), best CPU ms/page:")
    print(f"  {'fields':<12}{'list path (plans)':>19}{'record by record':>18}")
    for name, listed, one_by_one in page_costs(args.tasks, args.edges, args.seed):
        print(f"  {name:<12}{listed:>19.3f}{one_by_one:>18.3f}")
    if args.json_path:
        with open(args.json_path, "w", encoding="utf-8") as fh:
            json.dump([{**asdict(c), "rps": c.rps} for c in cases], fh, indent=2)
    return 0 if all(met for *_, met in goals(cases)) else 1


if __name__ == "__main__":
    sys.exit(main())
