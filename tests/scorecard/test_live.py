"""The live scorecard from a sandbox run: agents predict (stand-up, triage, forecast, planner,
retro), people approve, reject and finish work, and the scorecard scores it from sprintpilot's own
records and what Asana shows a few days later."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from agents.planner.inputs import sprint_record
from service.db.feedback import SqlFeedback
from service.runtime import Runtime
from service.scorecard import scorecard_for
from tests.scorecard.conftest import PORTFOLIO, as_person, at, proposal_of, run, settle
from tools.asana.field_names import STORY_POINTS
from tools.feedback.models import FeedbackItem, FeedbackKind, Verdict

# Wednesday of the seeded Sprint 23 (2026-11-09 → 2026-11-20); the scorecard the Monday after.
MORNING = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)
LATER = MORNING + timedelta(hours=4)
MONDAY = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def test_the_scorecard_scores_what_the_agents_predicted_against_what_happened(rt: Runtime) -> None:
    ws = rt.allowed_workspaces()[0]
    with at(MORNING):
        standup = proposal_of(rt, run(rt, "standup", {"project": "Sprint 23"}))
        triage = proposal_of(
            rt, run(rt, "triage", {"project": "Product Backlog", "unestimated": True, "limit": 2})
        )
        forecast = proposal_of(rt, run(rt, "forecast", {"project": "Product Backlog"}))
        plan = run(rt, "planner", {"project": "Product Backlog"})
        settle(rt, plan)  # approved
        retro = run(rt, "retro", {"project": "Sprint 22"})
        settle(rt, retro, reject=True)
    assert standup.evidence["at_risk"] and standup.evidence["nudged"], standup.evidence
    nudge = standup.evidence["nudged"][0]
    estimated = triage.evidence["tasks"][0]
    backlog = rt.asana.find_project(ws, "Product Backlog")
    # The nudged person finishes the task they were nudged about, and a triaged one.
    with at(LATER), as_person(rt, nudge["person"]) as person:
        person.update_task(nudge["task"], {"completed": True})
        points = rt.asana.field_map(backlog.gid).to_custom_fields({STORY_POINTS: 5})
        person.update_task(estimated["gid"], {"custom_fields": points, "completed": True})

    # A person tells sprintpilot one of the stand-up's flags was a false alarm (the feedback loop).
    flagged_gid = standup.evidence["at_risk"][0]["task_gid"]
    SqlFeedback(rt.engine).record(
        f"story:test-{flagged_gid}",
        FeedbackItem(
            kind=FeedbackKind.THUMBS_DOWN_COMMENT,
            verdict=Verdict.FALSE_ALARM,
            created_at=LATER,
            agent="standup",
            task_gid=flagged_gid,
            project_gid=standup.scope.project_gids[0],
            actor="asana:someone",
        ),
    )

    with at(MONDAY):
        card = scorecard_for(rt.context(actor="test"), portfolio=PORTFOLIO)

    # Triage: one estimate has an actual now, the other waits.
    tri = next(e for e in card.estimates if e.agent == "triage")
    assert (tri.n, tri.pending) == (1, len(triage.evidence["tasks"]) - 1)
    assert tri.mae == pytest.approx(abs(estimated["estimate"]["points"] - 5))
    # The plan's Sprint 24 has not run yet: its velocity is pending.
    plan_score = next(e for e in card.estimates if e.agent == "planner")
    assert (plan_score.n, plan_score.pending) == (0, 1)

    # Stand-up flags against what did not get done by Sprint 23's last day.
    sprint = rt.asana.find_project(ws, "Sprint 23")
    tasks = [t for t in rt.asana.project_tasks(sprint.gid) if not t.parent]
    end = datetime(2026, 11, 20, 23, 59, 59, tzinfo=UTC)
    open_then = {t.gid for t in tasks if not t.completed or (t.completed_at and t.completed_at > MORNING)}
    slipped = {
        t.gid
        for t in tasks
        if t.gid in open_then and not (t.completed and t.completed_at and t.completed_at <= end)
    }
    flagged = {r["task_gid"] for r in standup.evidence["at_risk"]} & open_then
    (flags,) = [f for f in card.flags if f.agent == "standup"]
    assert (flags.rounds, flags.flagged, flags.slipped, flags.hits) == (
        1,
        len(flagged),
        len(slipped),
        len(flagged & slipped),
    )
    assert nudge["task"] not in slipped  # finished the day it was nudged

    # The nudge led to a change within the day.
    (nudges,) = card.nudges
    assert nudges.followed >= 1 and nudges.nudges == len(standup.evidence["nudged"])

    # The forecast's next sprint (after the last ended one, Sprint 22) is Sprint 23, now finished.
    assert forecast.evidence["history_names"][-1] == "Sprint 22"
    (cal,) = card.calibration
    delivered = sprint_record(sprint, tasks).completed_points
    pct = forecast.evidence["next_sprint"]["percentiles"]
    assert cal.n == 1 and cal.inside_p10_p90 == (1.0 if pct["10"] <= delivered <= pct["90"] else 0.0)
    assert cal.p50_mae == pytest.approx(abs(pct["50"] - delivered))

    # Approvals by kind: the plan approved, the retro's action items rejected.
    decisions = {(d.agent, d.kind): d for d in card.decisions}
    planner_kinds = [d for (agent, _), d in decisions.items() if agent == "planner"]
    retro_kinds = [d for (agent, _), d in decisions.items() if agent == "retro"]
    assert planner_kinds and all(d.approval_rate == 1.0 and d.rejected == 0 for d in planner_kinds)
    assert retro_kinds and all(d.rejection_rate == 1.0 for d in retro_kinds)
    assert "Mobile Portfolio's projects" in card.source
    assert [(f.agent, f.false_alarms, f.misses) for f in card.feedback] == [("standup", 1, 0)]
