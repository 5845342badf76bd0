"""Benchmark: read a large project (tasks + fields + dependencies + memberships) through the client.

    python -m evals.bench_asana_read [--tasks 2000] [--edges 3000] [--pages 200] [--json out.json]

Starts the sandbox on a generated workspace, adds a large project (generator_scale), then reads
everything the planner needs through `AsanaClient` and checks the cost: the API calls must not
exceed ceil(tasks/100) task pages + a constant for project metadata (project, sections, field
settings). Also measures the sandbox's throughput for sequential task-list page fetches.
Exits 1 if the read costs more calls than that minimum or returns incomplete data.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from dataclasses import asdict, dataclass, field

from tools.asana import AsanaClient, TaskView
from tools.asana.field_names import STORY_POINTS

# project() + sections() + custom_field_settings (≤100 settings, so one page)
METADATA_CALLS = 3


@dataclass
class ReadResult:
    tasks: int
    edges: int
    memberships: int
    with_story_points: int
    calls_by_method: dict[str, int]
    calls_total: int
    expected_min: int
    wall_s: float
    page_fetches: int = 0
    page_wall_s: float = 0.0
    problems: list[str] = field(default_factory=list)

    @property
    def pages_per_s(self) -> float:
        return self.page_fetches / self.page_wall_s if self.page_wall_s else 0.0


def read_project(client: AsanaClient, project_gid: str) -> tuple[int, int, int, int, float]:
    """The planner's full read: metadata, field map, every task with the PLANNING view."""
    started = time.perf_counter()
    client.project(project_gid)
    client.sections(project_gid)
    fmap = client.field_map(project_gid)
    tasks = client.project_tasks(project_gid, view=TaskView.PLANNING)
    wall = time.perf_counter() - started
    points = fmap.require(STORY_POINTS).name or STORY_POINTS
    edges = sum(len(t.dependencies) for t in tasks)
    memberships = sum(1 for t in tasks if t.section_in(project_gid) is not None)
    with_points = sum(1 for t in tasks if t.field(points) is not None)
    return len(tasks), edges, memberships, with_points, wall


def page_throughput(client: AsanaClient, project_gid: str, pages: int) -> tuple[int, float]:
    """Sequential task-list page fetches (100 tasks each, PLANNING fields) until `pages` are done."""
    client.calls.reset()
    label = "GET /projects/{gid}/tasks"
    started = time.perf_counter()
    while client.calls[label] < pages:
        client.project_tasks(project_gid, view=TaskView.PLANNING)
    return client.calls[label], time.perf_counter() - started


def run(n_tasks: int, n_edges: int, pages: int, seed: int) -> ReadResult:
    # The sandbox is a test double: imported here so tools/ never depends on it.
    from sandbox.generator import generate_workspace
    from sandbox.generator_scale import generate_large_project
    from sandbox.server import SandboxServer

    generated = generate_workspace(seed=seed)
    large = generate_large_project(generated, n_tasks, n_edges, seed=seed)
    server = SandboxServer(generated.store, token=generated.token)
    with server, AsanaClient(server.base_url, server.token) as client:
        tasks, edges, memberships, with_points, wall = read_project(client, large.project_gid)
        snap = client.calls.snapshot()
        result = ReadResult(
            tasks=tasks,
            edges=edges,
            memberships=memberships,
            with_story_points=with_points,
            calls_by_method=dict(sorted(snap.by_method.items())),
            calls_total=snap.total,
            expected_min=math.ceil(n_tasks / 100) + METADATA_CALLS,
            wall_s=wall,
        )
        if pages:
            result.page_fetches, result.page_wall_s = page_throughput(client, large.project_gid, pages)
    if result.calls_total > result.expected_min:
        result.problems.append(f"{result.calls_total} calls > minimum {result.expected_min}")
    if tasks != n_tasks:
        result.problems.append(f"read {tasks} tasks, expected {n_tasks}")
    if edges != len(large.edges):
        result.problems.append(f"read {edges} dependency edges, expected {len(large.edges)}")
    if memberships != n_tasks:
        result.problems.append(f"{n_tasks - memberships} tasks came back without their section")
    return result


def render(r: ReadResult) -> str:
    rows = [
        ("tasks read", f"{r.tasks}"),
        ("dependency edges read", f"{r.edges}"),
        ("tasks with section membership", f"{r.memberships}"),
        ("tasks with Story Points", f"{r.with_story_points}"),
        *((f"  calls {label}", f"{n}") for label, n in r.calls_by_method.items()),
        ("API calls total", f"{r.calls_total}"),
        ("expected minimum", f"{r.expected_min} (= ceil(tasks/100) + {METADATA_CALLS} metadata)"),
        ("wall time (full read)", f"{r.wall_s:.3f} s"),
    ]
    if r.page_fetches:
        rows += [
            ("task-list page fetches", f"{r.page_fetches} sequential, 100 tasks each"),
            ("sandbox pages/s", f"{r.pages_per_s:.1f} ({r.pages_per_s * 100:.0f} tasks/s)"),
        ]
    width = max(len(k) for k, _ in rows)
    lines = [f"{k.ljust(width)}  {v}" for k, v in rows]
    verdict = "OK" if not r.problems else "FAIL: " + "; ".join(r.problems)
    return "\n".join(
        ["Asana read benchmark (sandbox over HTTP, real SDK)", "-" * (width + 30), *lines, verdict]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--tasks", type=int, default=2000)
    parser.add_argument("--edges", type=int, default=3000)
    parser.add_argument("--pages", type=int, default=200, help="sequential page fetches to time (0: skip)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", dest="json_path", help="also write the result as JSON here")
    args = parser.parse_args(argv)
    result = run(args.tasks, args.edges, args.pages, args.seed)
    print(render(result))
    if args.json_path:
        with open(args.json_path, "w", encoding="utf-8") as fh:
            json.dump({**asdict(result), "pages_per_s": result.pages_per_s}, fh, indent=2)
    return 1 if result.problems else 0


if __name__ == "__main__":
    sys.exit(main())
