"""The stand-up analytics on small hand-made sprints (numbers checked by hand)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from tools.asana.models import Ref, Story
from tools.standup.activity import changes_in_window, is_stuck_comment, progress_by_person
from tools.standup.blockers import find_blockers
from tools.standup.burndown import compute_burndown, status_from_gap
from tools.standup.calendar import add_working_days, working_days, working_days_between
from tools.standup.capacity import committed_capacity
from tools.standup.chart import render_png
from tools.standup.models import ChangeKind, TaskState
from tools.standup.risk import find_at_risk

START, END = date(2026, 11, 9), date(2026, 11, 20)  # Mon → Fri, 10 working days


def at(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 11, day, hour, 0, tzinfo=UTC)


def task(gid: str, pts: float | None, **kw: object) -> TaskState:
    base: dict[str, object] = {
        "gid": gid,
        "name": f"T{gid}",
        "points": pts,
        "created_at": at(2),
        "modified_at": at(9),
    }
    base.update(kw)
    return TaskState.model_validate(base)


def test_working_days() -> None:
    assert len(working_days(START, END)) == 10
    assert working_days_between(date(2026, 11, 13), date(2026, 11, 16)) == 1  # Fri → Mon
    assert add_working_days(date(2026, 11, 13), 2) == date(2026, 11, 17)


def test_burndown_ideal_remaining_and_status_rule() -> None:
    tasks = [
        task("1", 5, completed=True, completed_at=at(10)),
        task("2", 5, completed=True, completed_at=at(12)),
        task("3", 10),
        task("old", 8, completed=True, completed_at=at(6)),  # done before the sprint: not scope
    ]
    bd = compute_burndown(tasks, START, END, at(13, 17))
    assert bd.initial_scope == 20 and bd.scope_now == 20
    assert [p.remaining for p in bd.points] == [20, 15, 15, 10, 10]
    assert bd.points[0].ideal == 18.0  # 20 · (1 − 1/10): end of the first day
    # The status is measured at the start of today (Friday): 4 of 10 days gone, ideal 20 · 0.6.
    assert bd.days_elapsed == 5 and bd.ideal_now == 12.0 and bd.gap == -0.1
    assert bd.status_type == "on_track"
    assert bd.committed == ["1", "2", "3"]
    assert status_from_gap(0.2, 20) == "at_risk" and status_from_gap(0.3, 20) == "off_track"
    assert status_from_gap(5.0, 0) == "on_track"


def test_flat_line_scope_creep_and_late_surge() -> None:
    flat = [task("1", 10, completed=True, completed_at=at(9)), task("2", 10)]
    bd = compute_burndown(flat, START, END, at(13, 17))
    assert any(a.startswith("Flat line") for a in bd.anomalies)
    assert bd.status_type == "on_track"  # 10 remaining < ideal 20·(1 − 4/10): flat lately, not behind
    behind = compute_burndown([task("1", 10), task("2", 10)], START, END, at(13, 17))
    assert behind.gap == 0.4 and behind.status_type == "off_track"

    creep = [task("1", 10), task("2", 5, created_at=at(11))]
    bd = compute_burndown(creep, START, END, at(12, 17))
    assert bd.initial_scope == 10 and bd.scope_now == 15
    assert [c.task_gid for c in bd.scope_changes] == ["2"]
    assert any(a.startswith("Scope creep") for a in bd.anomalies)

    # Work added on the first day (a plan approved that morning) is the sprint's commitment.
    planned_monday = [task("1", 10, created_at=at(9, 10)), task("2", 5, created_at=at(10, 10))]
    bd = compute_burndown(planned_monday, START, END, at(12, 17))
    assert bd.initial_scope == 10 and bd.committed == ["1"]
    assert [c.task_gid for c in bd.scope_changes] == ["2"]

    surge = [task(str(i), 5, completed=True, completed_at=at(19 if i < 3 else 20)) for i in range(4)]
    surge.append(task("9", 2, completed=True, completed_at=at(10)))
    bd = compute_burndown(surge, START, END, at(20, 18))
    assert any(a.startswith("Late surge") for a in bd.anomalies)


def test_blockers_dependencies_staleness_and_stuck_comments() -> None:
    stories = {
        "3": [
            Story(
                gid="s1",
                type="comment",
                resource_subtype="comment_added",
                text="I'm stuck waiting on the API keys",
                created_at=at(13, 9),
                created_by=Ref(gid="u1", name="Ann"),
            ),
        ]
    }
    changes = changes_in_window(stories, "P", at(12, 17), at(13, 17))
    assert [c.kind for c in changes] == [ChangeKind.COMMENT]
    tasks = [
        task("1", 3, status="Blocked", section="In Progress", modified_at=at(13)),
        task("2", 3, section="In Progress", modified_at=at(9)),  # idle Mon → Fri = 4 working days
        task("3", 3, section="To Do", dependencies={"1": False, "x": True}, dependency_names={"1": "T1"}),
        task("4", 3, section="In Progress", modified_at=at(12)),
    ]
    found = {b.task_gid: b for b in find_blockers(tasks, changes, date(2026, 11, 13), stale_days=3)}
    assert found["1"].kinds == ["blocked_status"]
    assert found["2"].kinds == ["stale"]
    assert found["3"].kinds == ["dependency", "stuck_comment"] and "T1" in found["3"].reasons[0]
    assert "4" not in found
    assert is_stuck_comment("Blocked: waiting on keys") and not is_stuck_comment("Deployed to staging.")


def test_at_risk_due_soon_and_capacity() -> None:
    tasks = [
        task("1", 5, assignee_gid="a", completed=True, completed_at=at(10)),
        task("2", 8, assignee_gid="a", section="To Do", due_on=date(2026, 11, 20)),
        task("3", 8, assignee_gid="a", section="In Progress", due_on=date(2026, 11, 27), modified_at=at(17)),
        task("4", 1, assignee_gid="b", section="In Progress", due_on=date(2026, 11, 27), modified_at=at(17)),
        task("5", 1, assignee_gid="b", completed=True, completed_at=at(11)),
    ]
    days = working_days(START, END)
    risks, pace = find_at_risk(tasks, [], date(2026, 11, 18), days, {"a": 16, "b": 2})
    kinds = {r.task_gid: r.kinds for r in risks}
    # a: planned 16 points over 10 days = 1.6/day; 7 days gone (past half), 5 done = 0.71/day, so
    # her own pace counts, floored at half the plan's: 0.8/day. In flight 0.8 · 7 − 5 = 0.6 of the
    # started task; 16 − 0.6 = 15.4 left vs 0.8 · 3 days + 1.6 tolerance = 4.
    assert pace.days_elapsed == 7 and pace.days_left == 3
    a = pace.workloads["a"]
    assert (a.open, a.started, a.rate) == (16, 8, 0.8)
    assert (round(a.in_flight, 6), round(a.remaining_work, 6), round(a.limit, 6)) == (0.6, 15.4, 4.0)
    assert kinds["2"] == ["due_soon", "capacity"]
    assert "3" not in kinds  # started: being worked on, and its points use a's capacity first
    assert "4" not in kinds  # b is behind too, but his only open task is under way


def _fresh_sprint() -> list[TaskState]:
    """A plan as the planner leaves it: Ann holds 8 points of her capacity, Bo 1 (team: 9)."""
    return [
        task("1", 3, assignee_gid="ann", section="To Do"),
        task("2", 3, assignee_gid="ann", section="To Do"),
        task("3", 2, assignee_gid="ann", section="To Do"),
        task("4", 1, assignee_gid="bo", section="To Do"),
    ]


def test_a_young_sprint_is_not_at_risk_when_the_plan_fitted_its_work() -> None:
    """Issue 16: right after a plan was approved, tasks that fitted their owner's capacity were at
    risk because the stand-up split the committed points evenly over the people (and, after half
    the sprint, because they had not started)."""
    days = working_days(START, END)
    tasks = _fresh_sprint()
    capacity = committed_capacity(tasks, [t.gid for t in tasks])
    assert capacity == {"ann": 8, "bo": 1}
    for today in (START, date(2026, 11, 10)):  # days 1 and 2, nothing started yet
        risks, pace = find_at_risk(tasks, [], today, days, capacity)
        assert risks == [], today
    # Day 3 and still nothing started: both are 2 days behind their plan's line (20 % > 10 %):
    # Ann 8 > 8 · 0.8 + 0.8, Bo 1 > 1 · 0.8 + 0.1. In 'next' order (smaller first) Ann's task 2
    # is the one beyond what is left of her capacity.
    late = {r.task_gid: r.kinds for r in find_at_risk(tasks, [], date(2026, 11, 11), days, capacity)[0]}
    assert late == {"2": ["capacity"], "4": ["capacity"]}
    # Same day, her first task under way: in-flight work (1.6 at the plan's pace) is credited.
    moving = [tasks[0].model_copy(update={"section": "In Progress"}), *tasks[1:]]
    assert [r.task_gid for r in find_at_risk(moving, [], date(2026, 11, 11), days, capacity)[0]] == ["4"]
    # A capacity the plan stated wins over the commitment: Ann was planned 10 points of capacity.
    roomy = find_at_risk(tasks, [], date(2026, 11, 11), days, {**capacity, "ann": 10}, given={"ann"})
    assert [r.task_gid for r in roomy[0]] == ["4"] and roomy[1].workloads["ann"].source == "plan"


def test_not_started_is_no_reason_of_its_own_and_unestimated_waits_for_day_two() -> None:
    tasks = [
        task("1", 1, assignee_gid="a", section="To Do"),
        task("2", None, assignee_gid="a", section="In Progress"),
        task("3", 3, assignee_gid="a", completed=True, completed_at=at(10)),
    ]
    days = working_days(START, END)
    capacity = {"a": 5.0}
    early = {r.task_gid: r.kinds for r in find_at_risk(tasks, [], date(2026, 11, 11), days, capacity)[0]}
    assert early == {"2": ["unestimated"]}
    # 7 of 10 days gone and task 1 untouched: at a's pace (3 done in 7 days, 0.43/day) its 1 point
    # fits 3 days + 0.5 tolerance, so it is not at risk merely for not having started.
    late = {r.task_gid: r.kinds for r in find_at_risk(tasks, [], date(2026, 11, 18), days, capacity)[0]}
    assert late == {"2": ["unestimated"]}
    # With 2 points of capacity (0.2/day) the same day it does not fit (1 > 0.2 · 3 + 0.2).
    tight = {r.task_gid: r.kinds for r in find_at_risk(tasks, [], date(2026, 11, 18), days, {"a": 2.0})[0]}
    assert tight == {"1": ["capacity"], "2": ["unestimated"]}
    assert find_at_risk(tasks, [], START, days, capacity)[0] == []


def test_blockers_leave_the_plans_order_alone() -> None:
    """A not-started task queued behind unblocked work of its own sprint waits as planned."""
    tasks = [
        task("1", 3, section="To Do"),
        task("2", 3, section="To Do", dependencies={"1": False}, dependency_names={"1": "T1"}),
        task("3", 3, section="In Progress", dependencies={"1": False}, modified_at=at(13)),
        task("4", 3, section="To Do", dependencies={"ext": False}),
        task("5", 3, section="To Do", status="Blocked", modified_at=at(13)),
        task("6", 3, section="To Do", dependencies={"5": False}),
    ]
    found = {b.task_gid: b.kinds for b in find_blockers(tasks, [], date(2026, 11, 13))}
    assert "2" not in found  # the plan's order
    assert found["3"] == ["dependency"]  # started, yet waiting
    assert found["4"] == ["dependency"]  # waits on work outside the sprint
    assert found["5"] == ["blocked_status"]
    assert found["6"] == ["dependency"]  # waits on blocked work


def test_progress_and_chart() -> None:
    tasks = [
        task("1", 3, assignee_gid="a", assignee_name="Ann", completed=True, completed_at=at(13, 10)),
        task("2", 3, assignee_gid="a", assignee_name="Ann", section="In Progress"),
        task("3", 3, assignee_gid="a", assignee_name="Ann", section="To Do"),
    ]
    rows = progress_by_person(tasks, [], at(12, 17))
    assert [(r.name, r.done, r.in_progress, r.next) for r in rows] == [("Ann", ["1"], ["2"], ["3"])]
    png = render_png(compute_burndown(tasks, START, END, at(13, 17)), "burndown")
    assert png.startswith(b"\x89PNG") and len(png) > 2000
