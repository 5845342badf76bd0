"""Issue 21 part 7: the sprint review reports the progress of the Asana goals the sprint supports."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from agents.retro import sprint_review_specialist
from graphs.registry import SpecialistRegistry
from graphs.runner import start_run
from sandbox import goals as G
from service.approvals import build_decisions, decide, find_proposal
from service.runtime import open_runtime
from service.settings import load_settings

pytestmark = pytest.mark.usefixtures("offline_env")

DAY_AFTER = datetime(2026, 11, 21, 9, tzinfo=UTC)  # Sprint 23 ran 2026-11-09 → 11-20


def test_the_review_document_and_update_show_goal_progress(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, asana_base_url=None, model="offline")
    with open_runtime(settings, registry=SpecialistRegistry([sprint_review_specialist()])) as rt:
        assert rt.sandbox is not None
        store = rt.sandbox.store
        ws = rt.resolve_workspace()
        sprint = next(p for p in store.projects.values() if p.name == "Sprint 23")
        goal = G.add_goal(
            store,
            ws,
            "Reach 500 beta users",
            metric={"target_number_value": 500, "current_number_value": 200},
        )
        G.add_supporting(store, goal.gid, sprint.gid)

        ctx = rt.context(
            actor="agent:sprint_review", approver_gid=rt.approver_for(ws, None), now=lambda: DAY_AFTER
        )
        out = start_run(
            rt.graph, ctx, uuid.uuid4().hex, {"agent": "sprint_review", "args": {"project": "Sprint 23"}}
        )
        assert out.interrupt is not None, out.report
        record = find_proposal(rt, out.interrupt["proposal_id"])
        goals = record.proposal.evidence["goals"]["goals"]
        assert [g["name"] for g in goals] == ["Reach 500 beta users"] and goals[0][
            "progress"
        ] == pytest.approx(0.4)
        assert "Goal: Reach 500 beta users: 40%" in record.proposal.summary_markdown

        result = decide(rt, record, build_decisions(out.interrupt), "alice", out.interrupt.get("digest"))
        assert result.status == "done", result.report
        doc = next(
            a
            for a in rt.asana.attachments(sprint.gid)
            if (a.name or "").startswith("Sprint 23 sprint review")
        )
        body = httpx.get(str(doc.download_url)).text
        assert "Goals this sprint supports" in body and "Reach 500 beta users: 40%" in body

        # The goal moves on after the sprint: the review is a snapshot, nothing is proposed again.
        metric = G.goals(store)[goal.gid].metric
        assert metric is not None
        metric["current_number_value"] = 300
        again = start_run(
            rt.graph, ctx, uuid.uuid4().hex, {"agent": "sprint_review", "args": {"project": "Sprint 23"}}
        )
        assert again.interrupt is None
