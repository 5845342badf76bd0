"""Issue 16 ("Living with it for weeks"): retro action items are due inside the next sprint, and an
item that is already open is linked instead of created again (on the seeded embedded sandbox)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from agents.retro import retro_specialist
from graphs.registry import SpecialistRegistry
from graphs.runner import start_run
from service.approvals import build_decisions, decide, find_proposal
from service.runtime import Runtime, open_runtime
from service.settings import load_settings
from tools.retro.dedupe import normalize_title

SHARED_ENV = "Stabilise the shared environment: owner, health check and a rollback drill"
SEEDED_OPEN = "Stabilise the staging environment"  # an open "Process Improvement" task in the seed


pytestmark = pytest.mark.usefixtures("offline_env")


def _retro(rt: Runtime, today: date) -> tuple[dict[str, Any] | None, Any]:
    """(the approval request, or None when nothing waits; the proposal's record)."""
    ws = rt.resolve_workspace()
    now = datetime(today.year, today.month, today.day, 9, tzinfo=UTC)
    ctx = rt.context(
        actor="agent:retro", approver_gid=rt.approver_for(ws, "Product Backlog"), now=lambda: now
    )
    out = start_run(rt.graph, ctx, uuid.uuid4().hex, {"agent": "retro", "args": {"project": "Sprint 23"}})
    proposal_id = out.interrupt["proposal_id"] if out.interrupt else (out.report or {}).get("proposal_id")
    assert proposal_id, out.report
    return out.interrupt, find_proposal(rt, proposal_id)


def _action_items(proposal: dict[str, Any], process_gid: str) -> list[dict[str, Any]]:
    return [
        a
        for a in proposal["actions"]
        if a["kind"] == "create_task" and a["params"].get("projects") == [process_gid]
    ]


@pytest.mark.parametrize(
    ("today", "start", "end", "due"),
    [
        # Planned the day Sprint 23 ends: a one-week Sprint 24 (the old rule gave 2026-12-02).
        (date(2026, 11, 20), date(2026, 11, 23), date(2026, 11, 27), date(2026, 11, 25)),
        # A retro held late, while the next sprint runs: its middle working day from tomorrow on.
        (date(2026, 12, 20), date(2026, 12, 14), date(2026, 12, 25), date(2026, 12, 23)),
    ],
)
def test_action_items_are_due_inside_the_next_sprint(
    tmp_path: Path, today: date, start: date, end: date, due: date
) -> None:
    settings = load_settings(data_dir=tmp_path, asana_base_url=None, model="offline")
    with open_runtime(settings, registry=SpecialistRegistry([retro_specialist()])) as rt:
        ws = rt.resolve_workspace()
        team = rt.asana.teams(ws)[0].gid  # an organization: Asana needs a team for a new project
        rt.asana.create_project(ws, "Sprint 24", team_gid=team, start_on=start, due_on=end)
        _, record = _retro(rt, today)
        proposal = record.proposal.model_dump(mode="json")
        process = rt.asana.find_project(ws, "Process Improvement")
        items = _action_items(proposal, process.gid)
        assert items
        assert {date.fromisoformat(a["params"]["due_on"]) for a in items} == {due}
        assert proposal["evidence"]["next_sprint"]["name"] == "Sprint 24"


def test_without_a_next_sprint_items_are_due_within_a_sprint_length_from_today(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, asana_base_url=None, model="offline")
    with open_runtime(settings, registry=SpecialistRegistry([retro_specialist()])) as rt:
        _, record = _retro(rt, date(2026, 11, 20))
        process = rt.asana.find_project(rt.resolve_workspace(), "Process Improvement")
        dues = {
            a["params"]["due_on"] for a in _action_items(record.proposal.model_dump(mode="json"), process.gid)
        }
        # Sprint 23 ran 12 days (2026-11-09 → 11-20): the middle working day of 11-21 → 12-02.
        assert dues == {"2026-11-26"}


def test_an_item_already_open_is_linked_not_created_and_a_rerun_is_recognised(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, asana_base_url=None, model="offline")
    with open_runtime(settings, registry=SpecialistRegistry([retro_specialist()])) as rt:
        ws = rt.resolve_workspace()
        process = rt.asana.find_project(ws, "Process Improvement")
        sprint = rt.asana.find_project(ws, "Sprint 23")
        open_task = next(t for t in rt.asana.project_tasks(process.gid) if t.name == SEEDED_OPEN)
        assert not open_task.completed

        interrupt, record = _retro(rt, date(2026, 11, 20))
        assert interrupt is not None
        proposal = record.proposal.model_dump(mode="json")
        items = _action_items(proposal, process.gid)
        assert items and SHARED_ENV not in [a["params"]["name"] for a in items]  # not duplicated
        # Each new item states its facts: the normalised name and the sprint (repeat detection).
        assert all(
            a["facts"] == {"retro_item": normalize_title(a["params"]["name"]), "sprint": sprint.gid}
            for a in items
        )
        noted = [
            a for a in proposal["actions"] if a["kind"] == "post_comment" and a["target"] == open_task.gid
        ]
        assert len(noted) == 1 and "came up again in the Sprint 23 retro" in noted[0]["params"]["text"]
        assert f"already open as “{SEEDED_OPEN}”" in proposal["summary_markdown"]
        assert open_task.gid in proposal["summary_markdown"]
        assert proposal["evidence"]["linked_items"][0]["open_task"] == open_task.gid
        # The comment is a report (auto): it is on the open task before anyone approves.
        assert any("came up again" in (s.text or "") for s in rt.asana.stories(open_task.gid))

        result = decide(rt, record, build_decisions(interrupt), "alice", interrupt.get("digest"))
        assert result.status == "done", result.report
        created = [
            t for t in rt.asana.project_tasks(process.gid) if (t.notes or "").startswith("From the Sprint 23")
        ]
        assert len(created) == len(items)

        # The same retro again: its own open items are linked (no new task, no "came up again").
        _, again = _retro(rt, date(2026, 11, 20))
        proposal = again.proposal.model_dump(mode="json")
        assert _action_items(proposal, process.gid) == []
        created_gids = {t.gid for t in created}
        assert not [
            a for a in proposal["actions"] if a["kind"] == "post_comment" and a["target"] in created_gids
        ]
        assert "from the Sprint 23 retro): linked, not created again" in proposal["summary_markdown"]
