"""The health report shows the progress of the Asana goals its projects support (embedded sandbox,
through supervisor → policy → publish → apply)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from agents.health import health_specialist
from graphs.registry import SpecialistRegistry
from graphs.runner import start_run
from sandbox import goals as G
from service.runtime import Runtime, open_runtime
from service.settings import load_settings
from tools.health.goals import goal_progress

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture
def rt(tmp_path: Path) -> Iterator[Runtime]:
    settings = load_settings(data_dir=tmp_path, asana_base_url=None, model="offline")
    with open_runtime(settings, registry=SpecialistRegistry([health_specialist()])) as r:
        yield r


def _run(rt: Runtime, thread: str) -> Any:
    ctx = rt.context(actor="agent:health", now=lambda: NOW)
    return start_run(rt.graph, ctx, thread, {"agent": "health", "args": {}, "trigger": "cli"})


def test_health_reports_the_progress_of_supported_goals(rt: Runtime) -> None:
    assert rt.sandbox is not None
    store = rt.sandbox.store
    ws = rt.resolve_workspace()
    portfolio = next(p for p in store.portfolios.values() if p.name == "Mobile Portfolio")
    sprint = next(p for p in store.projects.values() if p.name == "Sprint 23")
    by_tasks = G.add_goal(
        store, ws, "Finish planned work", metric={"progress_source": "project_task_completion"}
    )
    G.add_supporting(store, by_tasks.gid, sprint.gid)
    manual = G.add_goal(
        store, ws, "Reach 500 beta users", metric={"target_number_value": 500, "current_number_value": 200}
    )
    G.add_supporting(store, manual.gid, portfolio.gid)
    bot = rt.asana.me().gid
    someone = next(u.gid for u in store.users.values() if u.gid != bot)
    hidden = G.add_goal(store, ws, "Board only", privacy_setting="members_only", owner=someone)
    G.add_supporting(store, hidden.gid, sprint.gid)

    out = _run(rt, "hg-1")
    assert out.report is not None and out.report["status"] == "applied", out.report
    proposal = rt.repo.get_proposal(out.report["proposal_id"]).proposal  # type: ignore[attr-defined]
    rows = {g["name"]: g for g in proposal.evidence["goals"]["goals"]}
    assert set(rows) == {"Finish planned work", "Reach 500 beta users"}  # not the members-only one
    tasks = [store.tasks[t] for t in store.project_tasks(sprint.gid)]
    done = sum(t.completed for t in tasks)
    assert rows["Finish planned work"]["progress"] == pytest.approx(done / len(tasks), abs=1e-4)
    assert rows["Finish planned work"]["progress"] == pytest.approx(G.progress(store, by_tasks), abs=1e-4)
    assert f"{done} of {len(tasks)} tasks done" in rows["Finish planned work"]["detail"]
    assert rows["Reach 500 beta users"]["progress"] == pytest.approx(0.4)
    text = proposal.summary_markdown
    assert "**Goals** (Asana goals these projects support)" in text
    assert "- Reach 500 beta users: 40% (200 of 500, manual; supported by Mobile Portfolio)" in text
    # The status updates Asana shows carry the same lines.
    posted = [u for u in store.status_updates.values() if u.parent == portfolio.gid]
    assert any("Reach 500 beta users: 40%" in u.text for u in posted)

    # The sprint review calls the same function for its own projects.
    review = goal_progress(rt.asana, [sprint.gid])
    assert [g.name for g in review.goals] == ["Finish planned work"]
    assert review.markdown()[1].startswith("- Finish planned work: ")


def test_without_goals_the_report_is_unchanged(rt: Runtime) -> None:
    out = _run(rt, "hg-2")
    proposal = rt.repo.get_proposal(out.report["proposal_id"]).proposal  # type: ignore[attr-defined]
    assert proposal.evidence["goals"] == {"goals": [], "unavailable": None}
    assert "**Goals**" not in proposal.summary_markdown
