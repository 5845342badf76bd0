"""Rejections with a reason, on every surface, are feedback (hooked once in
`service.approvals.decide`); a kind people keep rejecting in a project is held back from
unsolicited runs, and an approval brings it back."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from agents.dependencies import dependencies_specialist
from graphs.registry import SpecialistRegistry
from graphs.runner import RunOutcome, start_run
from service.approvals import ApprovalError, build_decisions, decide, find_proposal, sync_from_asana
from service.db.feedback import SqlFeedback
from service.runtime import Runtime, open_runtime
from service.settings import load_settings
from tests.feedback.world import feedback_rows
from tools.asana.client import AsanaClient
from tools.dependencies.calendar import add_working_days
from tools.feedback.models import FeedbackKind, Verdict

TODAY = date(2026, 11, 23)
REASON = "the vendor moved this date, not us; leave it"


@pytest.fixture
def rt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    for var in ("SPRINTPILOT_ASANA_BASE_URL", "SPRINTPILOT_DATABASE_URL", "SPRINTPILOT_MODEL"):
        monkeypatch.delenv(var, raising=False)
    settings = load_settings(data_dir=tmp_path, asana_base_url=None, model="offline")
    with open_runtime(settings, registry=SpecialistRegistry([dependencies_specialist()])) as runtime:
        yield runtime


def _chain(rt: Runtime) -> str:
    """An open backlog task with an open dependent, both given dates (the dependent is due soon)."""
    assert rt.sandbox is not None
    store = rt.sandbox.store
    backlog = rt.asana.find_project(rt.allowed_workspaces()[0], "Product Backlog")
    tasks = {t.gid: t for t in rt.asana.project_tasks(backlog.gid)}
    for a in tasks.values():
        b = next((d.gid for d in a.dependents if d.gid in tasks and not tasks[d.gid].completed), None)
        if a.completed or b is None:
            continue
        store.tasks[a.gid].due_on = add_working_days(TODAY, 2).isoformat()
        store.tasks[b].start_on = add_working_days(TODAY, 3).isoformat()
        store.tasks[b].due_on = add_working_days(TODAY, 4).isoformat()
        return a.gid
    raise AssertionError("the generated backlog has dependency chains")


def _slip(rt: Runtime, task: str, days: int, trigger: str) -> RunOutcome:
    approver = rt.approver_for(rt.allowed_workspaces()[0], "Product Backlog")
    ctx = rt.context(
        actor="agent:dependencies",
        approver_gid=approver,
        now=lambda: datetime(2026, 11, 23, 9, tzinfo=UTC),
    )
    request: dict[str, Any] = {
        "agent": "dependencies",
        "args": {"projects": ["Product Backlog"], "trigger": "manual", "task": task, "days": days},
        "trigger": trigger,
    }
    return start_run(rt.graph, ctx, uuid.uuid4().hex, request)


def _reject(rt: Runtime, outcome: RunOutcome, reason: str = REASON) -> str:
    pending = outcome.interrupt
    assert pending is not None, outcome.report
    record = find_proposal(rt, pending["proposal_id"])
    decide(rt, record, build_decisions(pending, reject_all=True, message=reason), "cli:po", pending["digest"])
    return record.id


def _shifts(outcome: RunOutcome) -> list[dict[str, Any]]:
    pending = outcome.interrupt or {}
    return [r for r in pending.get("action_requests", []) if r["name"] == "update_task"]


def test_rejection_with_reason_is_recorded_once(rt: Runtime) -> None:
    task = _chain(rt)
    outcome = _slip(rt, task, 5, "cli")
    shifts = _shifts(outcome)
    assert shifts
    proposal_id = _reject(rt, outcome)
    rows = [r for r in feedback_rows(rt) if r.kind is FeedbackKind.ACTION_REJECTED]
    assert len(rows) == len(outcome.interrupt["action_requests"])  # type: ignore[index]
    shift_rows = [r for r in rows if r.action_kind == "update_task"]
    assert len(shift_rows) == len(shifts)
    row = shift_rows[0]
    assert row.verdict is Verdict.REJECTED and row.text == REASON and row.actor == "cli:po"
    assert row.agent == "dependencies" and row.proposal_id == proposal_id
    assert row.task_gid in {s["args"]["target"] for s in shifts}
    # The same decision retried: refused (nothing pending), and no second row either way.
    record = find_proposal(rt, proposal_id)
    with pytest.raises(ApprovalError):
        decide(
            rt, record, build_decisions(outcome.interrupt or {}, reject_all=True, message=REASON), "cli:po"
        )
    assert SqlFeedback(rt.engine).record_rejections(rt.repo, proposal_id) == 0
    assert len([r for r in feedback_rows(rt) if r.kind is FeedbackKind.ACTION_REJECTED]) == len(rows)


def test_repeated_rejections_hold_the_kind_back_until_approved(rt: Runtime) -> None:
    task = _chain(rt)
    for days in (3, 4, 5):
        _reject(rt, _slip(rt, task, days, "cli"))
    # An unsolicited run (an event) leaves the due-date shifts out and says why.
    held = _slip(rt, task, 6, "event")
    assert _shifts(held) == []
    report = held.report or {}
    proposal = find_proposal(rt, str(report.get("proposal_id"))).proposal
    assert "Held back after repeated rejections" in proposal.summary_markdown
    assert "update_task held back" in proposal.summary_markdown
    assert proposal.evidence["feedback_suppressed"]["kinds"] == ["update_task"]
    # An explicit request still gets them; once approved, unsolicited runs propose them again.
    asked = _slip(rt, task, 7, "cli")
    assert _shifts(asked)
    pending = asked.interrupt
    assert pending is not None
    decide(
        rt, find_proposal(rt, pending["proposal_id"]), build_decisions(pending), "cli:po", pending["digest"]
    )
    assert _shifts(_slip(rt, task, 9, "event"))


def test_rejecting_the_approval_task_in_asana_records_the_reason_and_the_person(rt: Runtime) -> None:
    outcome = _slip(rt, _chain(rt), 5, "event")
    pending = outcome.interrupt
    assert pending is not None and pending.get("approval_task_gid")
    approval_task = str(pending["approval_task_gid"])
    assignee = rt.asana.task(approval_task).assignee
    assert assignee is not None and rt.sandbox is not None
    token = rt.sandbox.token_for(assignee.gid)
    assert token
    with AsanaClient(rt.sandbox.base_url, token) as person:
        person.add_comment(approval_task, text=REASON)
        person.update_task(approval_task, {"approval_status": "rejected"})
    (result,) = sync_from_asana(rt)
    assert result.outcome is not None
    rows = [r for r in feedback_rows(rt) if r.kind is FeedbackKind.ACTION_REJECTED]
    assert rows and all(r.user_gid == assignee.gid and r.actor == f"asana:{assignee.gid}" for r in rows)
    assert all(r.text == REASON for r in rows)
    sync_from_asana(rt)  # a second sweep decides nothing and records nothing
    assert len([r for r in feedback_rows(rt) if r.kind is FeedbackKind.ACTION_REJECTED]) == len(rows)
