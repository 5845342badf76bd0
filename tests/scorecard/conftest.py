"""A runtime over the embedded sandbox (SQLite, seeded team) with every agent, the scorecard too."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from evals.clock import travel
from graphs.runner import RunOutcome, start_run
from service.approvals import build_decisions, decide, find_proposal
from service.runtime import Runtime, open_runtime
from service.settings import load_settings
from tools.asana.client import AsanaClient

PORTFOLIO = "Mobile Portfolio"


@pytest.fixture
def rt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    for var in ("SPRINTPILOT_ASANA_BASE_URL", "SPRINTPILOT_DATABASE_URL", "SPRINTPILOT_MODEL"):
        monkeypatch.delenv(var, raising=False)
    settings = load_settings(data_dir=tmp_path, asana_base_url=None, model="offline")
    with open_runtime(settings) as runtime:
        yield runtime


def at(when: datetime) -> Any:
    """The process clock (proposals, the database, the sandbox's stories) at `when`, ticking."""
    return travel(when)


def run(rt: Runtime, agent: str, args: dict[str, Any]) -> RunOutcome:
    ws = rt.allowed_workspaces()[0]
    ctx = rt.context(actor=f"agent:{agent}", approver_gid=rt.approver_for(ws, "Product Backlog"))
    return start_run(rt.graph, ctx, uuid.uuid4().hex, {"agent": agent, "args": args, "trigger": "cli"})


def settle(rt: Runtime, out: RunOutcome, *, reject: bool = False) -> RunOutcome:
    assert out.status == "awaiting_approval" and out.interrupt is not None, out.report
    record = find_proposal(rt, out.interrupt["proposal_id"])
    decisions = build_decisions(out.interrupt, reject_all=reject)
    return decide(rt, record, decisions, "alice", out.interrupt.get("digest"))


def proposal_of(rt: Runtime, out: RunOutcome) -> Any:
    pid = (out.interrupt or {}).get("proposal_id") or (out.report or {}).get("proposal_id")
    record = rt.repo.get_proposal(str(pid))
    assert record is not None, out.report
    return record.proposal


def as_person(rt: Runtime, user_gid: str) -> AsanaClient:
    """A teammate's own Asana client: their changes are theirs, not sprintpilot's."""
    assert rt.sandbox is not None
    token = rt.sandbox.token_for(user_gid)
    assert token is not None
    return AsanaClient(rt.asana.base_url, token)
