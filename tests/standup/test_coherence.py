"""Pure parts of issue 16's stand-up rules: status from the findings, headline check, nudge batching."""

from __future__ import annotations

from datetime import UTC, date, datetime

from agents.proposal import Action, ActionKind, Proposal, Scope
from tools.standup.blockers import Blocker
from tools.standup.capacity import capacity_by_gid, parse_plan_capacity, plan_capacity_line
from tools.standup.coherence import (
    PlannedSprint,
    contradictions,
    flagged_share,
    headline_agrees,
    overall_status,
)
from tools.standup.models import TaskState
from tools.standup.nudges import nudge_message, plan_nudges
from tools.standup.risk import AtRisk

DAY = date(2026, 11, 25)


def task(gid: str, owner: str | None, pts: float | None = 3, **kw: object) -> TaskState:
    base: dict[str, object] = {
        "gid": gid,
        "name": f"T{gid}",
        "assignee_gid": owner,
        "assignee_name": owner.title() if owner else None,
        "points": pts,
        "created_at": datetime(2026, 11, 2, tzinfo=UTC),
    }
    base.update(kw)
    return TaskState.model_validate(base)


def test_status_is_the_worse_of_the_burndown_and_the_flagged_share() -> None:
    open_points: dict[str, float | None] = {"1": 3, "2": 3, "3": 2, "4": None}
    # 1 of 10 scope tasks and 3 of 30 points: 10 % is still on track.
    assert flagged_share(open_points, {"1"}, scope_points=30, scope_tasks=10) == 0.1
    assert overall_status("on_track", 0.1) == "on_track"
    # An unestimated task counts by number: 2 of 10 tasks.
    share = flagged_share(open_points, {"1", "4"}, scope_points=30, scope_tasks=10)
    assert share == 0.2 and overall_status("on_track", share) == "at_risk"
    assert overall_status("off_track", 0.0) == "off_track"
    assert overall_status("on_track", 0.5) == "off_track"
    assert flagged_share({}, {"1"}, scope_points=0, scope_tasks=0) == 0.0


def test_headline_must_not_claim_another_status() -> None:
    assert headline_agrees("Sprint 24 is on track: 35 of 35 points remaining.", "on_track")
    assert not headline_agrees("Sprint 24 is on track: 35 of 35 points remaining.", "at_risk")
    assert headline_agrees("Sprint 24 is not on track; 4 tasks at risk.", "off_track")
    assert not headline_agrees("Sprint 24 is off-track.", "at_risk")
    assert headline_agrees("Two tasks at risk, the rest moving.", "on_track")  # no status claimed


def test_one_nudge_per_person_on_their_most_urgent_task() -> None:
    tasks = [
        task("1", "ann", section="To Do"),
        task("2", "ann", section="To Do", due_on=date(2026, 11, 20)),
        task("3", "ann", section="In Progress", status="Blocked"),
        task("4", "bo", section="To Do"),
        task("5", "olga", section="To Do", due_on=date(2026, 11, 19)),  # not a member
        task("6", "ann", section="To Do"),  # not flagged
    ]
    at_risk = [
        AtRisk(task_gid="1", kinds=["capacity"], reasons=["too much"]),
        AtRisk(task_gid="2", kinds=["overdue"], reasons=["overdue since 2026-11-20"]),
        AtRisk(task_gid="4", kinds=["unestimated"], reasons=["no points"]),
        AtRisk(task_gid="5", kinds=["overdue"], reasons=["overdue"]),
    ]
    blockers = [Blocker(task_gid="3", kinds=["blocked_status"], reasons=["Status is Blocked"])]
    nudges = plan_nudges(tasks, at_risk, blockers, {"ann", "bo"}, "P", limit=10)
    assert [(n.person_gid, n.task_gid, [i.task_gid for i in n.items]) for n in nudges] == [
        ("ann", "2", ["2", "3", "1"]),  # overdue, then blocked, then over capacity
        ("bo", "4", ["4"]),
    ]
    assert nudges[0].facts(DAY) == {"nudge": "ann", "day": "2026-11-25"}
    text = nudge_message("Hi Ann, three of your tasks need attention.", nudges[0])
    assert (
        text.count("https://app.asana.com/0/P/") == 3
        and "[T2](https://app.asana.com/0/P/2) (this task)" in text
    )
    assert "T6" not in text
    assert [n.person_gid for n in plan_nudges(tasks, at_risk, blockers, {"ann", "bo"}, "P", limit=1)] == [
        "ann"
    ]
    assert plan_nudges(tasks, at_risk, blockers, {"ann", "bo"}, "P", limit=0) == []


def test_the_plan_states_capacity_in_a_line_the_stand_up_reads_back() -> None:
    line = plan_capacity_line([("Ann  Lee", 8, 6), ("Bo", 2.5, 2), ("Bo", 1, 1)])
    assert line == (
        "- Capacity per person (points): Ann Lee 8 (6 planned); Bo 2.5 (2 planned); Bo 1 (1 planned)."
    )
    text = f"Sprint 24 plan\n\n{line.replace('- ', '• ', 1)}\n• Scope: 3 items"  # as Asana returns it
    assert parse_plan_capacity(text) == {"Ann Lee": 8.0, "Bo": 1.0}
    assert parse_plan_capacity("no plan here") == {} and parse_plan_capacity(None) == {}
    tasks = [task("1", "ann", assignee_name="Ann Lee"), task("2", "bo", assignee_name="Bo")]
    tasks.append(task("3", "bo2", assignee_name="Bo"))  # two people called Bo: neither is matched
    assert capacity_by_gid({"Ann Lee": 8.0, "Bo": 1.0}, tasks) == {"ann": 8.0}


def _standup(evidence: dict[str, object], actions: list[Action]) -> Proposal:
    return Proposal(
        agent="standup",
        scope=Scope(workspace_gid="W", project_gids=["P"]),
        title="Daily stand-up",
        summary_markdown="",
        evidence=evidence,
        actions=actions,
    )


def _workload(person: str, open_points: float, tasks: list[str], capacity: float) -> dict[str, object]:
    return {
        "person_gid": person,
        "capacity": capacity,
        "source": "committed",
        "rate": capacity / 10,
        "done": 0.0,
        "open": open_points,
        "started": 0.0,
        "in_flight": 0.0,
        "remaining_work": open_points,
        "remaining_capacity": capacity,
        "tolerance": capacity / 10,
        "open_tasks": tasks,
    }


def test_contradictions_list_what_the_issue_16_stand_up_said_on_day_one() -> None:
    """The stand-up of the reproduction: capacity flags on a fresh plan, "on track", one nudge per
    task and no facts."""
    plan = PlannedSprint.from_tasks([task("1", "ann"), task("2", "ann"), task("3", "bo", 2)])
    assert plan.capacity == {"ann": 6, "bo": 2}
    evidence: dict[str, object] = {
        "date": DAY.isoformat(),
        "at_risk": [
            {"task_gid": "2", "kinds": ["capacity"], "reasons": []},
            {"task_gid": "3", "kinds": ["not_started"], "reasons": []},
        ],
        "blockers": [],
        "pace": {
            "days_elapsed": 0,
            "days_left": 10,
            "workloads": {"ann": _workload("ann", 6, ["1", "2"], 6), "bo": _workload("bo", 2, ["3"], 2)},
        },
        "open_points": {"1": 3, "2": 3, "3": 2},
        "scope": {"points": 8, "tasks": 3},
        "status_type": "on_track",
        "headline": "Sprint 24 is on track: 8 of 8 points remaining.",
    }
    nudges = [
        Action(kind=ActionKind.POST_COMMENT, target="2", params={"text": "hi"}),
        Action(
            kind=ActionKind.POST_COMMENT,
            target="1",
            params={"text": "hi"},
            facts={"nudge": "ann", "day": "x"},
        ),
    ]
    found = contradictions(plan, _standup(evidence, nudges))
    assert any(f.startswith("2: flagged at risk for capacity") for f in found)
    assert any("'not_started'" in f for f in found)
    assert "status on track with 67% of the sprint at risk or blocked" in found
    assert sum("without its facts" in f for f in found) == 2
    # The same findings, told coherently, contradict nothing.
    fixed = {**evidence, "at_risk": [], "status_type": "on_track"}
    assert contradictions(plan, _standup(fixed, [])) == []
    # A stand-up that found today's already posted has nothing to check.
    assert contradictions(plan, _standup({"already_done": True}, [])) == []


def test_contradictions_of_nudges_and_headlines() -> None:
    plan = PlannedSprint(capacity={"ann": 6})
    evidence: dict[str, object] = {
        "date": DAY.isoformat(),
        "at_risk": [{"task_gid": "1", "kinds": ["overdue"], "reasons": []}],
        "blockers": [],
        "pace": {"days_elapsed": 4, "days_left": 6, "workloads": {"ann": _workload("ann", 6, ["1", "2"], 6)}},
        "open_points": {"1": 3, "2": 3},
        "scope": {"points": 6, "tasks": 2},
        "status_type": "off_track",
        "headline": "Sprint 24 is on track.",
    }
    facts = {"nudge": "ann", "day": DAY.isoformat()}
    actions = [
        Action(kind=ActionKind.POST_STATUS_UPDATE, target="P", params={"status_type": "on_track"}),
        Action(kind=ActionKind.POST_COMMENT, target="1", params={"text": "a"}, facts=facts),
        Action(kind=ActionKind.POST_COMMENT, target="2", params={"text": "b"}, facts=facts),
    ]
    found = contradictions(plan, _standup(evidence, actions))
    assert "status update of type on_track for a stand-up status off_track" in found
    assert any(f.startswith("headline") for f in found)
    assert "nudge to ann lands on 2, not on one of their flagged tasks" in found
    assert "2 nudges to ann on 2026-11-25 (at most one per person per day)" in found
