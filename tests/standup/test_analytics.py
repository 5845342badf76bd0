"""The stand-up analytics on small hand-made sprints (numbers checked by hand)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from tools.asana.models import Ref, Story
from tools.standup.activity import changes_in_window, is_stuck_comment, progress_by_person
from tools.standup.blockers import find_blockers
from tools.standup.burndown import compute_burndown, status_from_gap
from tools.standup.calendar import add_working_days, working_days, working_days_between
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
    assert bd.points[0].ideal == 18.0  # 20 · (1 − 1/10)
    assert bd.days_elapsed == 5 and bd.ideal_now == 10.0 and bd.gap == 0.0
    assert bd.status_type == "on_track"
    assert status_from_gap(0.2, 20) == "at_risk" and status_from_gap(0.3, 20) == "off_track"
    assert status_from_gap(5.0, 0) == "on_track"


def test_flat_line_scope_creep_and_late_surge() -> None:
    flat = [task("1", 10, completed=True, completed_at=at(9)), task("2", 10)]
    bd = compute_burndown(flat, START, END, at(13, 17))
    assert any(a.startswith("Flat line") for a in bd.anomalies)
    assert bd.status_type == "on_track"  # 10 remaining = ideal 20·(1 − 5/10): flat lately, not behind
    behind = compute_burndown([task("1", 10), task("2", 10)], START, END, at(13, 17))
    assert behind.gap == 0.5 and behind.status_type == "off_track"

    creep = [task("1", 10), task("2", 5, created_at=at(11))]
    bd = compute_burndown(creep, START, END, at(12, 17))
    assert bd.initial_scope == 10 and bd.scope_now == 15
    assert [c.task_gid for c in bd.scope_changes] == ["2"]
    assert any(a.startswith("Scope creep") for a in bd.anomalies)

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
    risks, pace = find_at_risk(tasks, [], date(2026, 11, 18), days, 24)
    kinds = {r.task_gid: r.kinds for r in risks}
    # a: 5 points in 7 elapsed days → ~0.71/day × 3 days left ≈ 2.1 < 16 open points.
    assert pace.days_elapsed == 7 and pace.days_left == 3
    assert kinds["2"] == ["due_soon", "not_started", "capacity"]
    assert "3" not in kinds  # started: being worked on, and its points use a's capacity first
    assert "4" not in kinds  # b: 1 point fits 3 days × the per-person share (0.43)


def test_not_started_only_after_half_the_sprint_and_unestimated_after_day_one() -> None:
    tasks = [
        task("1", 1, assignee_gid="a", section="To Do"),
        task("2", None, assignee_gid="a", section="In Progress"),
        task("3", 1, assignee_gid="a", completed=True, completed_at=at(10)),
    ]
    days = working_days(START, END)
    early = {r.task_gid: r.kinds for r in find_at_risk(tasks, [], date(2026, 11, 11), days, 24)[0]}
    assert early == {"2": ["unestimated"]}  # 2 of 10 days gone: not starting yet is normal
    late = {r.task_gid: r.kinds for r in find_at_risk(tasks, [], date(2026, 11, 17), days, 24)[0]}
    assert late["1"][0] == "not_started" and late["2"] == ["unestimated"]
    first_day = find_at_risk(tasks, [], START, days, 24)[0]
    assert first_day == []


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
