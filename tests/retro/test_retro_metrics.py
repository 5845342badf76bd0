"""Retro analytics on hand-built sprints: exact numbers, edge cases, honest empty retros."""

from __future__ import annotations

from datetime import UTC, date, datetime

from agents.retro.analysis import analyse
from agents.retro.inputs import RetroInputs, theme_names_from_notes
from agents.retro.proposal import make_proposal
from agents.retro.schemas import RetroNarrative
from agents.retro.specialist import narrative_variables
from tools.asana.models import Project
from tools.llm.engine import LanguageEngine
from tools.retro.metrics import blockers, commitment, cycle_times, estimation_accuracy, timeline_deviations
from tools.retro.models import Comment, DueChange, RetroItem, SprintWindow, Transition
from tools.retro.mood import sprint_mood

W = SprintWindow(name="Sprint 5", start_on=date(2026, 3, 2), end_on=date(2026, 3, 13))


def at(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=UTC)


def item(gid: str, pts: float | None, **kw: object) -> RetroItem:
    return RetroItem(gid=gid, name=f"Task {gid}", points=pts, **kw)  # type: ignore[arg-type]


def sample() -> list[RetroItem]:
    return [
        item(
            "a",
            3,
            completed=True,
            completed_at=at(5),
            transitions=[Transition(at=at(3), field="section", new="In Progress")],
        ),
        item(
            "b",
            8,
            completed=True,
            completed_at=at(12),
            transitions=[Transition(at=at(3), field="status", new="In Progress")],
        ),
        item(
            "c", 5, completed=True, completed_at=datetime(2026, 3, 14, 9, tzinfo=UTC)
        ),  # after the end: carry-over
        item("d", 2, added_at=at(6), completed=True, completed_at=at(10)),  # added mid-sprint
        item("e", None, added_at=at(2)),  # added on the start day: committed, unestimated
    ]


def test_commitment_completion_carry_over_and_added_scope() -> None:
    c = commitment(sample(), W)
    assert (c.committed_items, c.committed_points) == (4, 16.0)
    assert (c.added_items, c.added_points) == (1, 2.0)
    assert (c.completed_items, c.completed_points) == (3, 13.0)
    assert sorted(c.carry_over_gids) == ["c", "e"] and c.carry_over_points == 5.0
    assert c.unestimated_gids == ["e"]


def test_cycle_time_and_estimation_misses() -> None:
    cycles = {x.gid: x.days for x in cycle_times(sample())}
    assert cycles == {"a": 2.0, "b": 9.0}
    acc = estimation_accuracy(cycle_times(sample()))
    assert acc.measured == 2 and acc.days_per_point is not None


def test_blocked_periods_and_due_date_moves() -> None:
    blocked = item(
        "x",
        3,
        status="Blocked",
        transitions=[
            Transition(at=at(3), field="status", old="In Progress", new="Blocked"),
            Transition(at=at(5), field="status", old="Blocked", new="In Progress"),
            Transition(at=at(11), field="status", old="In Progress", new="Blocked"),
        ],
        comments=[Comment(at=at(3, 11), text="blocked by the payments API team")],
        due_on=date(2026, 3, 10),
        due_changes=[DueChange(at=at(4), old=date(2026, 3, 6), new=date(2026, 3, 10))],
    )
    found = blockers([blocked], W)
    assert [b.days for b in sorted(found, key=lambda b: b.since)] == [
        2.0,
        round((datetime(2026, 3, 13, 23, 59, 59, 999999, tzinfo=UTC) - at(11)).total_seconds() / 86400, 2),
    ]
    assert found[-1].reason is not None and "payments" in found[-1].reason
    kinds = {d.kind for d in timeline_deviations([blocked], W)}
    assert kinds == {"due_moved", "overdue_open"}


def test_mood_trend_declines_when_comments_turn_negative() -> None:
    comments = [
        Comment(at=at(2), text="Great work, thanks!"),
        Comment(at=at(3), text="Nice, looks good"),
        Comment(at=at(11), text="This is so frustrating, the build is broken again"),
        Comment(at=at(12), text="Damn, blocked by staging again. Annoying."),
    ]
    mood = sprint_mood(comments, W)
    assert mood.positive == 2 and mood.negative == 2
    assert mood.trend == "declining"


def _inputs(items: list[RetroItem]) -> RetroInputs:
    return RetroInputs(
        workspace_gid="1",
        project=Project(gid="10", name="Sprint 5"),
        window=W,
        items=items,
        process_project=Project(gid="20", name="Process Improvement"),
        scrum_master_gid="99",
    )


def _retro(items: list[RetroItem]) -> tuple[str, list[str]]:
    inputs = _inputs(items)
    a = analyse(inputs)
    text, label = LanguageEngine().write("retro_notes", narrative_variables(inputs, a), RetroNarrative)
    p = make_proposal(inputs, a, text, label, {"99": "Sam"}, [])
    return p.summary_markdown, [x.kind.value for x in p.actions]


def test_sprint_with_no_comments_and_no_completed_work_gives_an_honest_short_retro() -> None:
    notes, kinds = _retro([item("a", 3), item("b", 5)])
    assert "no comments were written this sprint" in notes
    assert "No work was completed in Sprint 5" in notes
    assert "Completed: 0 items, 0 points" in notes and "Carry-over: 2 items, 8 points" in notes
    assert kinds[:2] == ["post_status_update", "create_task"]
    # Carry-over of everything is a problem worth one action, owned by the scrum master.
    assert kinds.count("create_task") == 2


def test_empty_sprint_still_writes_a_retro() -> None:
    notes, kinds = _retro([])
    assert "Completed: 0 items" in notes and "No recurring theme" in notes
    assert kinds == ["post_status_update", "create_task"]


def test_theme_names_round_trip_through_retro_notes() -> None:
    items = [
        item("a", 3, comments=[Comment(at=at(3), text="Flaky test failed again on CI, so annoying")]),
        item("b", 3, comments=[Comment(at=at(4), text="Another flaky test in the login suite")]),
    ]
    notes, _ = _retro(items)
    assert "Flaky or failing tests" in theme_names_from_notes(notes)
