"""Benchmark: model calls and tokens per agent run (each agent once) and per chat turn.

Every agent runs once on the seeded sandbox (seed 7, the clock on Sprint 23's last day) with the
model pointed at the OpenAI-compatible test server (tests/llm/openai_server.py: real HTTP, the real
langchain-openai client), which answers each writer with a plausible instance of its output schema
and scripts the chat supervisor. Tokens are the server's usage counts: prompt = characters of the
request's messages / 4, completion = characters of the answer / 4 (no tokenizer is available
offline; real tokenizers give the same order of magnitude for English and JSON). The counts the
app stored per run (`model_calls`, tools/llm/usage.py) are checked against the server's.

Run from a checkout: python -m evals.bench_model_usage [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from graphs.runner import start_run
from service.chat_runtime import chat_session
from service.runtime import Runtime, open_runtime
from service.settings import load_settings

MODEL = "openai-compatible:test-model"
# The last day of the seeded Sprint 23 (2026-11-09 → 2026-11-20): its stand-up is due, Sprint 22's
# retro is the last one, and the next sprint can be planned.
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
PLAN_REQUEST = "Plan the next sprint from the Product Backlog with a capacity of 20 points."
QUESTION = "What can you help me with?"
# The chat's person: the seeded workspace's product manager, who may approve (a chat speaks as an
# Asana user of the workspace, never as a role name).
PM = "priya.brooks@acme.example"


@dataclass
class Row:
    run: str
    calls: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    fallbacks: int = 0
    prompts: Counter[str] = field(default_factory=Counter)
    engine: str = ""
    stored_match: bool = True

    def as_dict(self) -> dict[str, Any]:
        return {
            "run": self.run,
            "model_calls": self.calls,
            "tokens_in": self.tokens_in,
            "tokens_out": self.tokens_out,
            "fallbacks": self.fallbacks,
            "calls_by_prompt": dict(self.prompts),
            "engine": self.engine,
            "stored_matches_server": self.stored_match,
        }


def _pinned(rt: Runtime) -> Runtime:
    context = rt.context

    def pinned(**kw: Any) -> Any:
        return context(**{"now": lambda: NOW, **kw})

    rt.context = pinned  # type: ignore[method-assign]
    return rt


def _script(server_mod: Any) -> Any:
    """The test server's answers: writers get their schema, the supervisor plans or answers."""

    def respond(received: Any) -> Any:
        if received.structured:
            return server_mod.schema_answer(received)
        last = (received.messages or [{}])[-1]
        if last.get("role") == "tool":
            return server_mod.text("The plan is ready and waits for your approval in Asana and here.")
        if "plan" in received.last_user_text.lower():
            args = {"project": "Product Backlog", "capacity": 20}
            return server_mod.tool_calls(server_mod.call("planner", args, f"call_{len(received.messages)}"))
        return server_mod.text("I plan sprints, run stand-ups, retros, risk and DoD reviews, and forecasts.")

    return respond


def _measure(rt: Runtime, server: Any, server_mod: Any, name: str, thread_id: str, since: int) -> Row:
    row = Row(name)
    for received in server.requests[since:]:
        usage = server_mod.served_usage(received)
        row.calls += 1
        row.tokens_in += usage["prompt_tokens"]
        row.tokens_out += usage["completion_tokens"]
    assert rt.model_calls is not None
    stored = rt.model_calls.for_thread(thread_id)
    calls = [c for c in stored if c.outcome != "fallback"]
    row.fallbacks = len(stored) - len(calls)
    row.prompts = Counter(c.prompt or c.agent for c in calls)
    row.stored_match = (len(calls), sum(c.tokens_in for c in calls), sum(c.tokens_out for c in calls)) == (
        row.calls,
        row.tokens_in,
        row.tokens_out,
    )
    return row


def _agent_runs(rt: Runtime, server: Any, server_mod: Any) -> list[Row]:
    ws = rt.allowed_workspaces()[0]
    sprint = rt.asana.find_project(ws, "Sprint 23")
    tasks = rt.asana.project_tasks(sprint.gid)
    review = next((t for t in tasks if t.completed), tasks[0])
    runs: list[tuple[str, dict[str, Any]]] = [
        ("planner", {"project": "Product Backlog", "capacity": 20}),
        ("triage", {"project": "Product Backlog", "unestimated": True, "limit": 3}),
        ("standup", {"project": sprint.gid}),
        ("dependencies", {"projects": [sprint.gid]}),
        ("qa", {"task": review.gid, "project": sprint.gid}),
        ("retro", {}),
        ("forecast", {"project": "Product Backlog"}),
        ("health", {}),
    ]
    rows = []
    for agent, args in runs:
        thread = f"bench-{agent}"
        since = len(server.requests)
        ctx = rt.context(actor=f"agent:{agent}")
        outcome = start_run(rt.graph, ctx, thread, {"agent": agent, "args": args})
        row = _measure(rt, server, server_mod, agent, thread, since)
        pid = (outcome.interrupt or {}).get("proposal_id") or (outcome.report or {}).get("proposal_id")
        record = rt.repo.get_proposal(str(pid)) if pid else None
        row.engine = record.proposal.model if record is not None else f"no proposal ({outcome.status})"
        rows.append(row)
    return rows


def _chat_turns(rt: Runtime, server: Any, server_mod: Any) -> list[Row]:
    session = chat_session(rt, "bench-chat", PM)
    rows = []
    stored_before = 0
    for name, text in (
        ("chat: a question answered directly", QUESTION),
        ("chat: plan request → approval request", PLAN_REQUEST),
        ("chat: approve → applied, answer", "approve"),
    ):
        since = len(server.requests)
        events = list(session.send(text))
        errors = [e.data for e in events if e.kind == "error"]
        if errors:
            raise RuntimeError(f"{name}: {errors}")
        row = _measure(rt, server, server_mod, name, "bench-chat", since)
        # The thread's stored calls accumulate over the turns: compare this turn's share.
        assert rt.model_calls is not None
        stored = [c for c in rt.model_calls.for_thread("bench-chat") if c.outcome != "fallback"]
        turn = stored[stored_before:]
        stored_before = len(stored)
        row.prompts = Counter(c.prompt or c.agent for c in turn)
        row.fallbacks = 0
        row.stored_match = (len(turn), sum(c.tokens_in for c in turn), sum(c.tokens_out for c in turn)) == (
            row.calls,
            row.tokens_in,
            row.tokens_out,
        )
        row.engine = "–"
        rows.append(row)
    return rows


def run() -> list[Row]:
    repo = Path(__file__).resolve().parents[1]
    if str(repo) not in sys.path:
        sys.path.insert(0, str(repo))
    from tests.llm import openai_server as server_mod  # the test server ships with the checkout

    rows: list[Row] = []
    with server_mod.OpenAIServer() as server, tempfile.TemporaryDirectory() as tmp:
        server.default = _script(server_mod)
        for part, measure in (("agents", _agent_runs), ("chat", _chat_turns)):
            settings = load_settings(
                data_dir=Path(tmp) / part,
                asana_base_url=None,
                model=MODEL,
                model_base_url=server.base_url,
                approvers=[PM],
            )
            with open_runtime(settings) as rt:
                rows += measure(_pinned(rt), server, server_mod)
    return rows


def table(rows: list[Row]) -> str:
    lines = [
        "| run | model calls | tokens in | tokens out | calls by prompt | engine of the proposal |",
        "|---|---:|---:|---:|---|---|",
    ]
    for r in rows:
        prompts = ", ".join(f"{p} ×{n}" for p, n in sorted(r.prompts.items())) or "–"
        lines.append(f"| {r.run} | {r.calls} | {r.tokens_in:,} | {r.tokens_out:,} | {prompts} | {r.engine} |")
    agents = [r for r in rows if not r.run.startswith("chat")]
    lines.append(
        f"| **all 8 agents** | {sum(r.calls for r in agents)} | {sum(r.tokens_in for r in agents):,} | "
        f"{sum(r.tokens_out for r in agents):,} | | |"
    )
    stored = "yes" if all(r.stored_match for r in rows) else "NO"
    lines.append("")
    lines.append(f"Stored per run (`model_calls`) equal to the server's counts: {stored}.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--json", action="store_true", help="print JSON instead of the markdown table")
    args = parser.parse_args(argv)
    rows = run()
    print(json.dumps([r.as_dict() for r in rows], indent=1) if args.json else table(rows))
    return 0 if all(r.stored_match for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
