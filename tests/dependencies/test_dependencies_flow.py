"""The dependency manager through the whole graph on the generated sandbox workspace (SQLite):
auto actions (Risk Score, alert comments) land before approval; due-date shifts wait at the gate
and are applied once approved.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from agents.dependencies import dependencies_specialist
from graphs.registry import SpecialistRegistry
from graphs.runner import start_run
from service.approvals import build_decisions, decide, find_proposal
from service.runtime import Runtime, open_runtime
from service.settings import load_settings
from tools.dependencies.calendar import add_working_days

TODAY = date(2026, 11, 23)


@pytest.fixture
def rt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    for var in ("SPRINTPILOT_ASANA_BASE_URL", "SPRINTPILOT_DATABASE_URL", "SPRINTPILOT_MODEL"):
        monkeypatch.delenv(var, raising=False)
    settings = load_settings(data_dir=tmp_path, asana_base_url=None, model="offline")
    with open_runtime(settings, registry=SpecialistRegistry([dependencies_specialist()])) as runtime:
        yield runtime


def _chain(rt: Runtime) -> tuple[str, str, str | None]:
    """An open backlog task A with an open dependent B (and B's open dependent C, if any)."""
    assert rt.sandbox is not None
    store = rt.sandbox.store
    ws = rt.allowed_workspaces()[0]
    backlog = rt.asana.find_project(ws, "Product Backlog")
    tasks = {t.gid: t for t in rt.asana.project_tasks(backlog.gid)}
    best: tuple[str, str, str | None] | None = None
    for a in tasks.values():
        if a.completed:
            continue
        for d in a.dependents:
            b = tasks.get(d.gid)
            if b is None or b.completed:
                continue
            c = next((x.gid for x in b.dependents if x.gid in tasks and not tasks[x.gid].completed), None)
            if best is None or (c is not None and best[2] is None):
                best = (a.gid, b.gid, c)
    assert best is not None, "the generated backlog has dependency chains"
    a_gid, b_gid, c_gid = best
    # Give the chain a plan: A due in 2 working days; B starts right after and is due 2 days later.
    store.tasks[a_gid].due_on = add_working_days(TODAY, 2).isoformat()
    store.tasks[b_gid].start_on = add_working_days(TODAY, 3).isoformat()
    store.tasks[b_gid].due_on = add_working_days(TODAY, 4).isoformat()
    return a_gid, b_gid, c_gid


def test_slip_cascades_auto_writes_then_shift_after_approval(rt: Runtime) -> None:
    a_gid, b_gid, c_gid = _chain(rt)
    ws = rt.allowed_workspaces()[0]
    ctx = rt.context(
        actor="agent:dependencies",
        approver_gid=rt.approver_for(ws, "Product Backlog"),
        now=lambda: datetime(2026, 11, 23, 9, tzinfo=UTC),
    )
    thread = uuid.uuid4().hex
    request = {
        "agent": "dependencies",
        "args": {"projects": ["Product Backlog"], "trigger": "manual", "task": a_gid, "days": 5},
        "trigger": "cli",
    }
    outcome = start_run(rt.graph, ctx, thread, request)
    assert outcome.status == "awaiting_approval", outcome.report
    pending = outcome.interrupt
    assert pending is not None
    shifts = [r for r in pending["action_requests"] if r["name"] == "update_task"]
    assert any(r["args"]["target"] == b_gid for r in shifts)
    # A slips 5 working days: due Wed 25 → Wed Dec 2; B (2 days, Thu 26–Fri 27) → Thu Dec 3–Fri Dec 4.
    b_shift = next(r for r in shifts if r["args"]["target"] == b_gid)
    assert b_shift["args"]["params"] == {"due_on": "2026-12-04"}

    # Auto actions were applied before any approval: Risk Score on B and an alert comment on B.
    b = rt.asana.task(b_gid)
    assert b.due_on == date(2026, 11, 27), "no due-date write before approval"
    assert isinstance(b.field("Risk Score"), (int, float)) and b.field("Risk Score") > 50
    comments = [s.text or "" for s in rt.asana.stories(b_gid) if s.type == "comment"]
    assert any("2026-12-02" in t and "waits for approval" in t for t in comments), comments
    if c_gid is not None:
        assert rt.asana.task(c_gid).field("Risk Score") is not None
        assert not any("Heads-up" in (s.text or "") for s in rt.asana.stories(c_gid)), (
            "alerts only on direct dependents"
        )

    record = find_proposal(rt, pending["proposal_id"])
    done = decide(rt, record, build_decisions(pending), "cli:po", pending["digest"])
    assert done.status == "done", done.report
    assert rt.asana.task(b_gid).due_on == date(2026, 12, 4)
    assert find_proposal(rt, pending["proposal_id"]).status == "applied"


def test_scan_reports_cycles_and_critical_path(rt: Runtime) -> None:
    assert rt.sandbox is not None
    store = rt.sandbox.store
    ws = rt.allowed_workspaces()[0]
    backlog = rt.asana.find_project(ws, "Product Backlog")
    open_tasks = [t for t in rt.asana.project_tasks(backlog.gid) if not t.completed and not t.dependencies]
    x, y = open_tasks[0].gid, open_tasks[1].gid
    store.add_dependency(x, y)
    store.add_dependency(y, x)  # a cycle the team created by mistake
    ctx = rt.context(actor="agent:dependencies", now=lambda: datetime(2026, 11, 23, 9, tzinfo=UTC))
    before = rt.sandbox.store.stats.snapshot()["mutating"]
    proposal = dependencies_specialist().run({}, ctx)  # the specialist alone: it reads, never writes
    assert rt.sandbox.store.stats.snapshot()["mutating"] == before
    assert [sorted(c) for c in proposal.evidence["cycles"]] == [sorted([x, y])]
    assert proposal.evidence["critical_path"]["working_days"] > 0
    assert "Dependency cycles" in proposal.summary_markdown and "Critical path" in proposal.summary_markdown
    # Scan mode: every affected task is listed with its new earliest finish and slack.
    assert all("earliest_finish" in a and "slack_days" in a for a in proposal.evidence["affected"])


def test_a_repeated_scan_posts_no_alert_twice(rt: Runtime) -> None:
    a_gid, b_gid, _ = _chain(rt)
    assert rt.sandbox is not None
    rt.sandbox.store.tasks[a_gid].due_on = "2026-11-20"  # A is overdue: B's owner gets an alert
    ws = rt.allowed_workspaces()[0]

    def scan() -> int:
        ctx = rt.context(
            actor="agent:dependencies",
            approver_gid=rt.approver_for(ws, "Product Backlog"),
            now=lambda: datetime(2026, 11, 23, 9, tzinfo=UTC),
        )
        request = {"agent": "dependencies", "args": {"projects": ["Product Backlog"]}, "trigger": "cli"}
        start_run(rt.graph, ctx, uuid.uuid4().hex, request)
        return len([s for s in rt.asana.stories(b_gid) if s.type == "comment"])

    first = scan()
    assert first >= 1, "the overdue prerequisite alerts its direct dependent"
    assert scan() == first, "the same alert is not posted again"


def test_an_alert_is_repeated_only_when_its_facts_change(rt: Runtime) -> None:
    """Alerts are recognised by what they state (task, prerequisite, reason, whether it is now
    late), not by their wording, which a model varies from run to run."""
    a_gid, b_gid, _ = _chain(rt)
    assert rt.sandbox is not None
    rt.sandbox.store.tasks[a_gid].due_on = "2026-11-20"
    ws = rt.allowed_workspaces()[0]

    def scan(wording: str) -> int:
        ctx = rt.context(
            actor="agent:dependencies",
            approver_gid=rt.approver_for(ws, "Product Backlog"),
            now=lambda: datetime(2026, 11, 23, 9, tzinfo=UTC),
        )
        request = {"agent": "dependencies", "args": {"projects": ["Product Backlog"]}, "trigger": "cli"}
        with patch_alert_wording(wording):
            start_run(rt.graph, ctx, uuid.uuid4().hex, request)
        return len([s for s in rt.asana.stories(b_gid) if s.type == "comment"])

    first = scan("Heads-up: your prerequisite slipped.")
    assert scan("FYI, a task you depend on is late.") == first, "new wording, same facts: not posted"


@contextmanager
def patch_alert_wording(text: str) -> Iterator[None]:
    """The alert writer answers with `text` (as a model with its own wording would)."""
    from agents.dependencies import specialist as dep

    original = dep._alerts

    def reworded(analysis: Any, engine: Any) -> dict[str, str]:
        return {gid: text for gid in original(analysis, engine)}

    dep._alerts = reworded  # type: ignore[assignment]
    try:
        yield
    finally:
        dep._alerts = original  # type: ignore[assignment]
