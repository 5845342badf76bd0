"""One sprint phase for every agent: velocity counts finished sprints only (issue 16,
reproduction 3: a planned sprint's 0 points were read as history)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest

from graphs.runner import resume_run, start_run
from service.runtime import open_runtime
from service.settings import load_settings
from tools.planning.phase import sprint_phase

# The day after Sprint 23 of the seeded workspace ended (2026-11-09 → 2026-11-20).
NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)


def _sprint(start: str | None, due: str | None, completed: bool = False) -> SimpleNamespace:
    return SimpleNamespace(
        start_on=date.fromisoformat(start) if start else None,
        due_on=date.fromisoformat(due) if due else None,
        completed=completed,
    )


@pytest.mark.parametrize(
    ("sprint", "phase"),
    [
        (_sprint("2026-11-23", "2026-12-04"), "planned"),
        (_sprint("2026-11-09", "2026-11-25"), "active"),
        (_sprint("2026-11-09", "2026-11-20"), "finished"),
        (_sprint("2026-11-09", "2026-11-21"), "active"),  # its last day (has_ended: True)
        (_sprint("2026-11-09", "2026-11-25", completed=True), "finished"),
        (_sprint(None, None), "finished"),
    ],
)
def test_phase_rule(sprint: SimpleNamespace, phase: str) -> None:
    assert sprint_phase(sprint, date(2026, 11, 21)) == phase


@pytest.mark.integration
def test_an_approved_sprint_that_has_not_started_is_not_velocity_history(tmp_path: Path) -> None:
    with open_runtime(load_settings(data_dir=tmp_path, asana_base_url=None, model="offline")) as rt:
        ws = rt.resolve_workspace()

        def plan() -> dict:  # type: ignore[type-arg]
            ctx = rt.context(
                actor="agent:planner", approver_gid=rt.approver_for(ws, "Product Backlog"), now=lambda: NOW
            )
            out = start_run(
                rt.graph, ctx, uuid.uuid4().hex, {"agent": "planner", "args": {"project": "Product Backlog"}}
            )
            assert out.interrupt is not None
            return out.interrupt

        first = plan()
        before = rt.repo.get_proposal(first["proposal_id"])
        assert before is not None
        history = [s["name"] for s in before.proposal.evidence["past_sprints"]]
        thread = before.thread_id
        ctx = rt.context(actor="cli:po", now=lambda: NOW)
        done = resume_run(rt.graph, ctx, thread, [{"type": "approve"}], "cli:po", first["digest"])
        assert done.report is not None and done.report["status"] == "applied"

        second = rt.repo.get_proposal(plan()["proposal_id"])
        assert second is not None
        assert second.proposal.title == "Approve Sprint 25 backlog"
        # Sprint 24 exists now but has not started: the history is the same finished sprints.
        assert [s["name"] for s in second.proposal.evidence["past_sprints"]] == history
        assert "Sprint 24" not in history
        assert all(s["completed_points"] > 0 for s in second.proposal.evidence["past_sprints"])


@pytest.mark.integration
def test_plan_approve_plan_never_double_books(tmp_path: Path) -> None:
    """Issue 16 reproduction 1: 21 of 21 tasks of Sprint 24 were picked again for Sprint 25."""
    with open_runtime(load_settings(data_dir=tmp_path, asana_base_url=None, model="offline")) as rt:
        ws = rt.resolve_workspace()

        def plan_and_approve() -> set[str]:
            ctx = rt.context(
                actor="agent:planner", approver_gid=rt.approver_for(ws, "Product Backlog"), now=lambda: NOW
            )
            thread = uuid.uuid4().hex
            out = start_run(
                rt.graph, ctx, thread, {"agent": "planner", "args": {"project": "Product Backlog"}}
            )
            assert out.interrupt is not None
            done = resume_run(
                rt.graph,
                rt.context(now=lambda: NOW),
                thread,
                [{"type": "approve"}],
                "po",
                out.interrupt["digest"],
            )
            assert done.report is not None and done.report["status"] == "applied", done.report
            record = rt.repo.get_proposal(out.interrupt["proposal_id"])
            assert record is not None
            return {
                a.target for a in record.proposal.actions if a.kind.value == "add_to_project" and a.target
            }

        first, second = plan_and_approve(), plan_and_approve()
        assert first and second and not first & second
        for gid in first:  # each planned task sits in exactly one sprint project
            sprints = [
                m.project.name
                for m in rt.asana.task(gid).memberships
                if m.project and (m.project.name or "").startswith("Sprint")
            ]
            assert len(sprints) == 1, (gid, sprints)
