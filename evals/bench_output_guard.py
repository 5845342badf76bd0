"""Benchmark: the latency the output guard adds to a model write (tools/llm/guard.py).

The writers' real inputs are captured first: every agent runs once on the seeded sandbox (seed 7,
the clock on Sprint 23's last day) with the offline engine, and each `LanguageEngine.write` call
(prompt id, variables, schema) is recorded. Each captured write is then timed through the engine
with a model that answers with the offline writer's text for the same inputs (an answer the guard
passes, so every check runs to the end), with the guard on and off (`engine.guard = None`):

- over real HTTP: the OpenAI-compatible test server (tests/llm/openai_server.py) and the real
  langchain-openai client; a local server with no model behind it, so this is the smallest write a
  deployment can see, and the ratio an upper bound for a real model (hundreds of ms per call);
- in process: a stub model with no network at all, the worst case for the ratio.

What the guard adds is the offline writer's text for the same inputs (its numbers are computed
facts, and it is the fallback) plus the check itself. Medians over `--repeat` rounds; guard on and
off alternate within a round, so drift hits both alike.

Run from a checkout: python -m evals.bench_output_guard [--repeat 15] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from langchain_core.runnables import RunnableLambda
from pydantic import BaseModel

from graphs.runner import start_run
from service.runtime import Runtime, open_runtime
from service.settings import load_settings
from tools.llm.engine import LanguageEngine
from tools.llm.factory import make_chat_model
from tools.llm.guard import check_output
from tools.llm.offline import write_offline

MODEL = "openai-compatible:test-model"
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)  # the last day of the seeded Sprint 23
S = TypeVar("S", bound=BaseModel)


@dataclass
class Captured:
    prompt_id: str
    variables: dict[str, Any]
    schema: type[BaseModel]


class _Recorder(LanguageEngine):
    """The offline engine, keeping every write's inputs."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[Captured] = []

    def write(self, prompt_id: str, variables: dict[str, Any], schema: type[S]) -> tuple[S, str]:
        self.seen.append(Captured(prompt_id, dict(variables), schema))
        return super().write(prompt_id, variables, schema)


def capture(rt: Runtime) -> list[Captured]:
    ws = rt.allowed_workspaces()[0]
    sprint = rt.asana.find_project(ws, "Sprint 23")
    tasks = rt.asana.project_tasks(sprint.gid)
    review = next((t for t in tasks if t.completed), tasks[0])
    runs: list[tuple[str, dict[str, Any]]] = [
        ("planner", {"project": "Product Backlog"}),
        ("triage", {"project": "Product Backlog", "limit": 5}),
        ("standup", {"project": sprint.gid}),
        ("dependencies", {"projects": ["Product Backlog"]}),
        ("qa", {"task": review.gid, "project": sprint.gid}),
        ("retro", {}),
        ("forecast", {"project": "Product Backlog"}),
        ("health", {}),
    ]
    recorder = _Recorder()
    for agent, args in runs:
        ctx = replace(rt.context(actor=f"agent:{agent}", now=lambda: NOW), language=recorder)
        start_run(rt.graph, ctx, f"bench-guard-{agent}", {"agent": agent, "args": args})
    return recorder.seen


class _StubModel:
    """A chat model with no network: `with_structured_output` answers with `self.answer`."""

    def __init__(self) -> None:
        self.answer: BaseModel | None = None

    def with_structured_output(self, schema: Any, **_: Any) -> Any:
        return RunnableLambda(lambda _messages: self.answer)


@dataclass
class Row:
    prompt_id: str
    writes: int = 0
    guard_us: list[float] = field(default_factory=list)
    http_off: list[float] = field(default_factory=list)
    http_on: list[float] = field(default_factory=list)
    stub_off: list[float] = field(default_factory=list)
    stub_on: list[float] = field(default_factory=list)
    rejected: int = 0


def _timed(engine: LanguageEngine, c: Captured) -> float:
    started = time.perf_counter()
    _, label = engine.write(c.prompt_id, c.variables, c.schema)
    elapsed = time.perf_counter() - started
    if engine.guard is not None and label != engine.model_name:
        raise RuntimeError(f"{c.prompt_id}: the guard rejected the offline writer's own text ({label})")
    return elapsed


def measure(captured: list[Captured], repeat: int) -> dict[str, Row]:
    repo = Path(__file__).resolve().parents[1]
    if str(repo) not in sys.path:
        sys.path.insert(0, str(repo))
    from tests.llm import openai_server as server_mod  # the test server ships with the checkout

    rows: dict[str, Row] = {}
    stub = _StubModel()
    stub_engine = LanguageEngine(stub, model_name=MODEL)
    stub_bare = LanguageEngine(stub, model_name=MODEL)
    stub_bare.guard = None
    with server_mod.OpenAIServer() as server:
        holder: dict[str, Any] = {}
        server.default = lambda _received: server_mod.answer(holder["answer"])
        model = make_chat_model(MODEL, base_url=server.base_url, timeout=10, max_retries=0)
        http_engine = LanguageEngine(model, model_name=MODEL)
        http_bare = LanguageEngine(model, model_name=MODEL)
        http_bare.guard = None
        for c in captured:
            row = rows.setdefault(c.prompt_id, Row(c.prompt_id))
            row.writes += 1
            offline = write_offline(c.prompt_id, c.variables, c.schema)
            holder["answer"] = offline.model_dump(mode="json")
            stub.answer = offline
            http_engine.write(c.prompt_id, c.variables, c.schema)  # warm-up (connection, caches)
            one: dict[str, list[float]] = {
                k: [] for k in ("guard", "http_off", "http_on", "stub_off", "stub_on")
            }
            for _ in range(repeat):
                started = time.perf_counter()
                reference = write_offline(c.prompt_id, c.variables, c.schema)
                if check_output(offline, c.variables, reference):
                    row.rejected += 1
                one["guard"].append(time.perf_counter() - started)
                one["http_off"].append(_timed(http_bare, c))
                one["http_on"].append(_timed(http_engine, c))
                one["stub_off"].append(_timed(stub_bare, c))
                one["stub_on"].append(_timed(stub_engine, c))
            row.guard_us.append(statistics.median(one["guard"]) * 1e6)
            row.http_off.append(statistics.median(one["http_off"]) * 1e3)
            row.http_on.append(statistics.median(one["http_on"]) * 1e3)
            row.stub_off.append(statistics.median(one["stub_off"]) * 1e6)
            row.stub_on.append(statistics.median(one["stub_on"]) * 1e6)
    return rows


def table(rows: dict[str, Row]) -> str:
    med, total = statistics.median, sum
    lines = [
        "| writer (prompt) | writes | guard alone µs | HTTP write ms, off → on | ratio | "
        "in-process write µs, off → on | ratio |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in sorted(rows.values(), key=lambda r: r.prompt_id):
        lines.append(
            f"| {r.prompt_id} | {r.writes} | {med(r.guard_us):,.0f} | "
            f"{med(r.http_off):.2f} → {med(r.http_on):.2f} | {med(r.http_on) / med(r.http_off):.3f} | "
            f"{med(r.stub_off):,.0f} → {med(r.stub_on):,.0f} | {med(r.stub_on) / med(r.stub_off):.2f} |"
        )
    # One run of every agent: the sum of each write's median.
    n = total(r.writes for r in rows.values())
    guard = total(total(r.guard_us) for r in rows.values())
    off, on = (total(total(getattr(r, k)) for r in rows.values()) for k in ("http_off", "http_on"))
    s_off, s_on = (total(total(getattr(r, k)) for r in rows.values()) for k in ("stub_off", "stub_on"))
    lines.append(
        f"| **all writes of one run of each agent (sum)** | {n} | {guard:,.0f} | {off:.1f} → {on:.1f} | "
        f"{on / off:.3f} | {s_off:,.0f} → {s_on:,.0f} | {s_on / s_off:.2f} |"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repeat", type=int, default=15, help="rounds per captured write (median)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(data_dir=Path(tmp), asana_base_url=None, model="offline")
        with open_runtime(settings) as rt:
            captured = capture(rt)
    rows = measure(captured, args.repeat)
    if any(r.rejected for r in rows.values()):
        raise SystemExit("the guard rejected an offline writer's text; the benchmark is not valid")
    if args.json:
        print(json.dumps({k: vars(r) for k, r in rows.items()}, indent=1, default=str))
    else:
        print(table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
