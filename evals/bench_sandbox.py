"""Benchmark: the sandbox's own serving rate for task lists, plain against `opt_fields`.

    python -m evals.bench_sandbox [--tasks 2000] [--seconds 3] [--clients 1,4] [--in-process]
                                  [--former DIR]

Starts the sandbox (uvicorn, as `SandboxServer` runs it) on a generated workspace with a large
project, in a child process by default so the clients' own CPU does not share its interpreter,
then has 1 and 4 concurrent clients (processes, one keep-alive connection each) page through
`GET /projects/{gid}/tasks?limit=100`, once plain (compact records) and once with the
`opt_fields` the planner really sends (`TaskView.PLANNING`). Prints requests/s, p50 and p99 per
case and the issue 23 goals beside their references from the same run: opt_fields within 1.5x
of plain reads, and >= 300 requests/s with 4 clients. Exits 1 when a goal is missed.

It also prints the in-process cost of one page (render + encode, no HTTP), CPU time, for the list
path (`Renderer.render_many`: compiled plans) beside the record-by-record path (`Renderer.render`
per task, the generic field loop) and the path the list routes take with `opt_fields` (encoded
task fragments kept between requests, sandbox/fragments.py; warm: every fragment reused) in the
same run.

`--former DIR` serves the same workspace a second time from the `sandbox` package found in DIR
(a copy of an earlier `sandbox/`, e.g. `mkdir /tmp/old && git archive HEAD sandbox | tar -x -C
/tmp/old`), in its own child process, and measures it case by case beside the current one:
before/after figures from one run on one machine. The goals are judged on the current build.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import statistics
import sys
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import asdict, dataclass
from multiprocessing.connection import Connection
from typing import Any

from tools.asana import TaskView

PAGE_LIMIT = "100"
PAGE_MODES = ("list path (plans)", "record by record", "fragments (cold)", "fragments (warm)")
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


def _serve(n_tasks: int, n_edges: int, seed: int, conn: Connection, package_dir: str | None = None) -> None:
    """Child process: serve the generated workspace; answer "cpu" with its CPU seconds so far.

    With `package_dir`, the `sandbox` package is imported from there (an earlier copy)."""
    if package_dir is not None:
        sys.path.insert(0, package_dir)
    import sandbox
    from sandbox.server import SandboxServer

    generated, project_gid = _build(n_tasks, n_edges, seed)
    with SandboxServer(generated.store, token=generated.token) as server:
        conn.send((server.base_url, server.token, project_gid, str(sandbox.__file__)))
        while conn.recv() == "cpu":
            conn.send(time.process_time())


def _client_process(
    base_url: str, token: str, path: str, params: dict[str, str], seconds: float, conn: Connection
) -> None:
    """One client in a process of its own, on the standard library's HTTP client (bodies read as
    bytes, nothing decoded): the client's cost per request is then small and the same for every
    case, so the wall-clock ratio measures the server, not the client reading a bigger body
    (httpx in threads of the measuring process made opt_fields look 1.5x slower on 1.4x the
    server CPU). Sends "ready" once warm, waits for "go", then sends its latencies."""
    url = urllib.parse.urlsplit(base_url)
    target = f"{url.path.rstrip('/')}{path}?{urllib.parse.urlencode(params)}"
    headers = {"Authorization": f"Bearer {token}"}
    client = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=30)

    def get() -> None:
        client.request("GET", target, headers=headers)
        response = client.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"GET {target}: {response.status}")

    get()  # warm the connection
    conn.send("ready")
    conn.recv()  # go
    out: list[float] = []
    stop_at = time.perf_counter() + seconds
    while True:
        started = time.perf_counter()
        if started >= stop_at:
            break
        get()
        out.append(time.perf_counter() - started)
    client.close()
    conn.send(out)


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
    ctx = mp.get_context("spawn")
    pipes: list[Connection] = []
    processes = []
    for _ in range(clients):
        parent, child = ctx.Pipe()
        process = ctx.Process(
            target=_client_process, args=(base_url, token, path, params, seconds, child), daemon=True
        )
        process.start()
        pipes.append(parent)
        processes.append(process)
    try:
        for parent in pipes:
            if parent.recv() != "ready":
                raise RuntimeError("a client did not start")
        cpu_before = cpu() if cpu else 0.0
        started = time.perf_counter()
        for parent in pipes:
            parent.send("go")
        latencies: list[list[float]] = [parent.recv() for parent in pipes]
        wall = time.perf_counter() - started
        cpu_used = cpu() - cpu_before if cpu else None
    finally:
        for process in processes:
            process.join(timeout=15)
    samples = sorted(s for per in latencies for s in per)
    p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))] if samples else 0.0
    p50 = statistics.median(samples) if samples else 0.0
    per_request = cpu_used * 1000 / len(samples) if cpu_used is not None and samples else None
    return Case(name, clients, len(samples), wall, p50 * 1000, p99 * 1000, per_request)


@dataclass
class Served:
    """A running sandbox to measure: where it is and how to read its CPU time."""

    base_url: str
    token: str
    project_gid: str
    cpu: Callable[[], float] | None


def run(
    n_tasks: int,
    n_edges: int,
    seconds: float,
    client_counts: list[int],
    seed: int,
    in_process: bool,
    former: str | None = None,
) -> tuple[list[Case], list[Case]]:
    """(current cases, former cases: empty without `former`), measured case by case in turn."""
    if in_process:
        from sandbox.server import SandboxServer

        generated, project_gid = _build(n_tasks, n_edges, seed)
        with SandboxServer(generated.store, token=generated.token) as server:
            served = Served(server.base_url, server.token, project_gid, None)
            return _all_cases([served], seconds, client_counts)[0], []
    ctx = mp.get_context("spawn")
    children: list[tuple[Connection, Any]] = []
    servers: list[Served] = []
    try:
        for package_dir in [None] if former is None else [None, former]:
            parent, child = ctx.Pipe()
            process = ctx.Process(
                target=_serve, args=(n_tasks, n_edges, seed, child, package_dir), daemon=True
            )
            process.start()
            children.append((parent, process))
            base_url, token, project_gid, package_file = parent.recv()
            if package_dir is not None and not package_file.startswith(package_dir):
                raise SystemExit(
                    f"--former: the child imported {package_file}, not the package in {package_dir}"
                )
            servers.append(Served(base_url, token, project_gid, _cpu_reader(parent)))
        per_server = _all_cases(servers, seconds, client_counts)
        return per_server[0], per_server[1] if former is not None else []
    finally:
        for parent, process in children:
            parent.send("stop")
            process.join(timeout=15)


def _cpu_reader(conn: Connection) -> Callable[[], float]:
    def server_cpu() -> float:
        conn.send("cpu")
        return float(conn.recv())

    return server_cpu


def _all_cases(servers: list[Served], seconds: float, client_counts: list[int]) -> list[list[Case]]:
    """Each server's cases; the servers take turns case by case, so drifting load hits all alike."""
    plain = {"limit": PAGE_LIMIT}
    fields = {"limit": PAGE_LIMIT, "opt_fields": TaskView.PLANNING.opt_fields}
    cases: list[list[Case]] = [[] for _ in servers]
    for clients in client_counts:
        for name, params in (("plain", plain), ("opt_fields", fields)):
            for i, s in enumerate(servers):
                path = f"/projects/{s.project_gid}/tasks"
                cases[i].append(measure(s.base_url, s.token, path, name, params, clients, seconds, s.cpu))
    return cases


def page_costs(
    n_tasks: int, n_edges: int, seed: int, rounds: int = 5
) -> list[tuple[str, list[float | None]]]:
    """(fields, ms/page for each of PAGE_MODES): best CPU of `rounds` over every page; fragments
    only with opt_fields (plain lists never use them). Cold: nothing kept before each page (every
    task rendered and recorded); warm: every fragment and page kept."""
    from sandbox.optfields import parse_opt_fields

    generated, project_gid = _build(n_tasks, n_edges, seed)
    store = generated.store
    gids = store.project_tasks(project_gid)
    size = int(PAGE_LIMIT)
    pages = [[store.tasks[g] for g in gids[i : i + size]] for i in range(0, len(gids), size)]
    rows = []
    for name, raw in (("plain", None), ("opt_fields", TaskView.PLANNING.opt_fields)):
        tree = parse_opt_fields(raw)
        costs: list[float | None] = []
        for mode in PAGE_MODES:
            if mode.startswith("fragments") and tree is None:
                costs.append(None)
                continue
            _encode_pages(store, pages, tree, mode)  # warm: fragments kept, plans compiled
            best = float("inf")
            for _ in range(rounds):
                started = time.process_time()
                _encode_pages(store, pages, tree, mode)
                best = min(best, time.process_time() - started)
            costs.append(best * 1000 / len(pages))
        rows.append((name, costs))
    return rows


def _encode_pages(store: Any, pages: list[list[Any]], tree: Any, mode: str) -> None:
    from sandbox.context import encode_json
    from sandbox.fragments import cache_of, render_tasks_json
    from sandbox.serialize import Renderer

    for page in pages:
        renderer = Renderer(store)
        with store.lock:
            if mode == "fragments (cold)":
                cache_of(store).clear()
            if mode.startswith("fragments"):
                b'{"data":' + (render_tasks_json(renderer, page, tree) or b"[]") + b"}"
                continue
            if mode == "record by record":
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


def render(cases: list[Case], former: list[Case] | None = None) -> str:
    lines = [
        "Sandbox serving benchmark: GET /projects/{gid}/tasks?limit=100 (plain vs opt_fields=PLANNING)",
        f"{'build':<9}{'case':<12}{'clients':>8}{'requests':>10}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'server CPU ms/req':>19}",
    ]
    builds = [("current", cases)] + ([("former", former)] if former else [])
    for build, rows in builds:
        for c in rows:
            cpu = f"{c.server_cpu_ms:.2f}" if c.server_cpu_ms is not None else "-"
            lines.append(
                f"{build:<9}{c.name:<12}{c.clients:>8}{c.requests:>10}{c.rps:>9.0f}{c.p50_ms:>9.1f}"
                f"{c.p99_ms:>9.1f}{cpu:>19}"
            )
    for build, rows in builds:
        lines.append(f"goals, {build} build (figure | reference, same run):")
        for goal, figure, reference, met in goals(rows):
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
    parser.add_argument(
        "--former", metavar="DIR", help="also measure the sandbox package found in DIR (an earlier copy)"
    )
    parser.add_argument("--json", dest="json_path", help="also write the cases as JSON here")
    args = parser.parse_args(argv)
    if args.former and args.in_process:
        parser.error("--former needs child processes (leave out --in-process)")
    counts = [int(n) for n in args.clients.split(",") if n.strip()]
    cases, former = run(args.tasks, args.edges, args.seconds, counts, args.seed, args.in_process, args.former)
    print(render(cases, former))
    print("one page in process (render + encode, no HTTP), best CPU ms/page, current build:")
    print(f"  {'fields':<12}" + "".join(f"{mode:>19}" for mode in PAGE_MODES))
    for name, costs in page_costs(args.tasks, args.edges, args.seed):
        cells = "".join(f"{c:>19.3f}" if c is not None else f"{'-':>19}" for c in costs)
        print(f"  {name:<12}{cells}")
    if args.json_path:
        with open(args.json_path, "w", encoding="utf-8") as fh:
            rows = [{**asdict(c), "rps": c.rps, "build": "current"} for c in cases]
            rows += [{**asdict(c), "rps": c.rps, "build": "former"} for c in former]
            json.dump(rows, fh, indent=2)
    return 0 if all(met for *_, met in goals(cases)) else 1


if __name__ == "__main__":
    sys.exit(main())
