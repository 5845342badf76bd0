"""Proposals nobody will decide any more close themselves (issue 15, reproduction 7 and the
lifecycle: 12 open approval tasks after a few plans; approvals past their due time stayed open)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import pytest

from graphs.runner import start_run
from service.approvals import close_stale, pending
from service.runtime import Runtime, open_runtime
from service.settings import load_settings

pytestmark = pytest.mark.integration


def _plan(rt: Runtime, **args: object) -> dict[str, str]:
    ws = rt.resolve_workspace()
    ctx = rt.context(actor="agent:planner", approver_gid=rt.approver_for(ws, "Product Backlog"))
    request = {"agent": "planner", "args": {"project": "Product Backlog", **args}}
    out = start_run(rt.graph, ctx, uuid.uuid4().hex, request)
    assert out.interrupt is not None
    return {"id": out.interrupt["proposal_id"], "task": out.interrupt["approval_task_gid"]}


def _closed_with(rt: Runtime, task_gid: str, words: str) -> None:
    task = rt.asana.task(task_gid)
    assert task.completed and task.approval_status == "rejected"
    comments = [s.text or "" for s in rt.asana.stories(task_gid) if s.is_comment]
    assert any(words in c for c in comments), comments[-1]


def test_a_newer_plan_supersedes_the_older_one(tmp_path: Path) -> None:
    with open_runtime(load_settings(data_dir=tmp_path, asana_base_url=None, model="offline")) as rt:
        # The same plan again adds nothing: no second approval task (issue 16).
        old = _plan(rt)
        ws = rt.resolve_workspace()
        ctx = rt.context(actor="agent:planner", approver_gid=rt.approver_for(ws, "Product Backlog"))
        again = start_run(
            rt.graph, ctx, uuid.uuid4().hex, {"agent": "planner", "args": {"project": "Product Backlog"}}
        )
        assert again.interrupt is None and again.report is not None and again.report["status"] == "empty"
        # A different plan (less capacity) is news: it waits, and the older one is superseded.
        new = _plan(rt, capacity=20)
        (closed,) = close_stale(rt)
        assert closed.proposal_id == old["id"] and closed.status == "superseded"
        assert rt.repo.get_proposal(old["id"]).status == "superseded"  # type: ignore[union-attr]
        _closed_with(rt, old["task"], "superseded")
        assert [p.proposal.id for p in pending(rt)] == [new["id"]]
        assert not any(p.name == "Sprint 24" and p.gid for p in rt.asana.projects(rt.resolve_workspace()))
        assert close_stale(rt) == []  # nothing more to close


def test_an_approval_past_its_due_time_expires(tmp_path: Path) -> None:
    with open_runtime(load_settings(data_dir=tmp_path, asana_base_url=None, model="offline")) as rt:
        plan = _plan(rt)
        record = rt.repo.get_proposal(plan["id"])
        assert record is not None
        assert close_stale(rt, now=record.created_at + timedelta(hours=23)) == []
        (closed,) = close_stale(rt, now=record.created_at + timedelta(hours=25))
        assert closed.status == "expired" and "24 h" in closed.reason
        assert rt.repo.get_proposal(plan["id"]).status == "expired"  # type: ignore[union-attr]
        _closed_with(rt, plan["task"], "expired")
        assert pending(rt) == []


def test_proposals_about_different_things_in_one_project_are_not_superseded(tmp_path: Path) -> None:
    """Only a proposal about the same subject (the next sprint of one backlog) replaces another:
    two waiting changes of different tasks in one project both stay."""
    from evals.soak_approvals import SOAK, soak_specialist
    from graphs.registry import SpecialistRegistry

    settings = load_settings(data_dir=tmp_path, asana_base_url=None, model="offline")
    with open_runtime(settings, registry=SpecialistRegistry([soak_specialist()])) as rt:
        backlog = rt.asana.find_project(rt.resolve_workspace(), "Product Backlog")
        tasks = [t.gid for t in rt.asana.project_tasks(backlog.gid) if not t.completed][:2]
        ctx = rt.context(
            actor="agent:soak", approver_gid=rt.approver_for(rt.resolve_workspace(), backlog.gid)
        )
        for n, task in enumerate(tasks):
            args = {"task": task, "field": "due_on", "value": f"2027-02-0{n + 1}", "n": n}
            start_run(rt.graph, ctx, uuid.uuid4().hex, {"agent": SOAK, "args": args})
        assert len(pending(rt)) == 2
        assert close_stale(rt) == []
        assert len(pending(rt)) == 2
