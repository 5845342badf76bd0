"""Who decided in Asana is Asana's record of who changed `approval_status`, and only an allowed
approver's change counts (issue 15, reproduction 1: anyone could approve; the assignee got the
credit)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from graphs.runner import start_run
from service.approvals import sync_from_asana
from service.runtime import Runtime, open_runtime
from service.settings import load_settings
from tools.asana.client import AsanaClient

pytestmark = pytest.mark.integration


def _plan(rt: Runtime) -> tuple[str, str, str]:
    """(proposal id, approval task gid, its assignee)."""
    ws = rt.resolve_workspace()
    ctx = rt.context(actor="agent:planner", approver_gid=rt.approver_for(ws, "Product Backlog"))
    out = start_run(
        rt.graph, ctx, uuid.uuid4().hex, {"agent": "planner", "args": {"project": "Product Backlog"}}
    )
    assert out.interrupt is not None
    gid = out.interrupt["approval_task_gid"]
    task = rt.asana.task(gid)
    assert task.assignee is not None
    return out.interrupt["proposal_id"], gid, task.assignee.gid


def _as_user(rt: Runtime, user_gid: str) -> AsanaClient:
    assert rt.sandbox is not None
    token = rt.sandbox.token_for(user_gid)
    assert token is not None
    return AsanaClient(rt.sandbox.base_url, token)


def _other_member(rt: Runtime, *not_these: str) -> str:
    bot = rt.asana.me().gid
    users = [u.gid for u in rt.asana.users(rt.resolve_workspace())]
    return next(g for g in users if g not in {bot, *not_these} and rt.sandbox and rt.sandbox.token_for(g))


def test_an_approval_by_someone_else_is_set_back_and_applies_nothing(tmp_path: Path) -> None:
    with open_runtime(load_settings(data_dir=tmp_path, asana_base_url=None, model="offline")) as rt:
        pid, gid, assignee = _plan(rt)
        mallory = _other_member(rt, assignee)
        with _as_user(rt, mallory) as client:
            client.update_task(gid, {"approval_status": "approved"})

        (result,) = sync_from_asana(rt)
        assert result.outcome is None and result.asana_status == "pending"
        assert rt.repo.get_proposal(pid).status == "pending"  # type: ignore[union-attr]
        assert rt.asana.task(gid).approval_status == "pending"
        comments = [s.text or "" for s in rt.asana.stories(gid) if s.is_comment]
        assert any(mallory in c and "set back to pending" in c for c in comments)
        refused = [r for r in rt.audit.rows(limit=100) if r.event == "approval.unauthorized"]
        assert len(refused) == 1 and refused[0].details["changed_by"] == mallory
        assert not any(p.name == "Sprint 24" for p in rt.asana.projects(rt.resolve_workspace()))
        # The two restoring writes went through the ledger: a second sweep writes nothing...
        assert rt.sandbox is not None
        writes = rt.sandbox.store.stats.snapshot()["mutating_total"]
        (again,) = sync_from_asana(rt)
        assert again.outcome is None and rt.sandbox.store.stats.snapshot()["mutating_total"] == writes
        # ...and a second unauthorised change is undone too (new ledger entries, not skipped).
        with _as_user(rt, mallory) as client:
            client.update_task(gid, {"approval_status": "approved"})
        sync_from_asana(rt)
        assert rt.asana.task(gid).approval_status == "pending"
        assert len([r for r in rt.audit.rows(limit=100) if r.event == "approval.unauthorized"]) == 2

        # The assignee's own approval counts, and the audit credits the one who decided.
        with _as_user(rt, assignee) as client:
            client.update_task(gid, {"approval_status": "approved"})
        (result,) = sync_from_asana(rt)
        assert result.outcome is not None and result.outcome.report is not None
        assert result.outcome.report["status"] == "applied"
        assert result.outcome.report["decided_by"] == f"asana:{assignee}"


def test_configured_approvers_decide_instead_of_the_assignee(tmp_path: Path) -> None:
    with open_runtime(load_settings(data_dir=tmp_path, asana_base_url=None, model="offline")) as rt:
        pid, gid, assignee = _plan(rt)
        po = _other_member(rt, assignee)
        rt.settings = rt.settings.model_copy(update={"approvers": [po]})
        with _as_user(rt, assignee) as client:
            client.update_task(gid, {"approval_status": "approved"})
        (result,) = sync_from_asana(rt)
        assert result.outcome is None  # the assignee is not a configured approver
        with _as_user(rt, po) as client:
            client.update_task(gid, {"approval_status": "rejected"})
        (result,) = sync_from_asana(rt)
        assert result.outcome is not None and result.outcome.report is not None
        assert result.outcome.report["status"] == "rejected"
        assert result.outcome.report["decided_by"] == f"asana:{po}"
