"""Cascade on a hand-built graph, checked against dates worked out by hand (see comments)."""

from __future__ import annotations

import time
from datetime import date

import pytest

from tools.dependencies.calendar import (
    add_working_days,
    next_working_day,
    working_days_between,
    working_days_inclusive,
)
from tools.dependencies.cascade import propagate
from tools.dependencies.critical_path import critical_path
from tools.dependencies.durations import DurationModel, points_per_person_day
from tools.dependencies.graph import build_graph, find_cycles
from tools.dependencies.models import Slip, TaskNode

TODAY = date(2026, 11, 23)  # a Monday
RATE = DurationModel(points_per_person_day=0.5, default_days=2)


def hand_graph():
    return build_graph(
        [
            TaskNode("A", start_on=date(2026, 11, 23), due_on=date(2026, 11, 25)),  # Mon–Wed, 3 days
            TaskNode(
                "B", start_on=date(2026, 11, 26), due_on=date(2026, 11, 27), depends_on=("A",)
            ),  # 2 days
            TaskNode("C", due_on=date(2026, 12, 4), points=2, depends_on=("B",)),  # 2 pts / 0.5 = 4 days
            TaskNode("D", points=1, depends_on=("C",)),  # no dates, 2 days
            TaskNode("E", due_on=date(2026, 11, 24), completed=True, depends_on=("A",)),
            TaskNode("F", due_on=date(2026, 12, 31), depends_on=("E",)),  # behind a completed task only
        ]
    )


def test_calendar_skips_weekends():
    assert add_working_days(date(2026, 11, 27), 1) == date(2026, 11, 30)  # Fri + 1 = Mon
    assert next_working_day(date(2026, 11, 28)) == date(2026, 11, 30)  # Sat → Mon
    assert working_days_between(date(2026, 11, 25), date(2026, 12, 1)) == 4
    assert working_days_inclusive(date(2026, 11, 23), date(2026, 11, 29)) == 5
    assert points_per_person_day(40, 10, 8) == pytest.approx(0.5)


def test_cascade_matches_hand_computed_dates():
    res = propagate(hand_graph(), [Slip("A", days=2)], today=TODAY, durations=RATE)
    got = res.by_gid()
    assert set(got) == {"A", "B", "C", "D"}  # E is done, so F is not held up through it
    # A: Wed 25 + 2 working days = Fri 27.
    assert got["A"].earliest_finish == date(2026, 11, 27)
    # B: starts the working day after Fri 27 = Mon 30; 2 days → Tue Dec 1; due Fri 27 → slack −2.
    b = got["B"]
    assert (b.earliest_start, b.earliest_finish, b.slack_days, b.delay_days) == (
        date(2026, 11, 30),
        date(2026, 12, 1),
        -2,
        2,
    )
    assert b.depth == 1 and b.via == "A" and b.duration_source == "dates"
    # C: own start = due Fri Dec 4 − 4 + 1 = Tue Dec 1; B finishes Tue Dec 1 → start Wed Dec 2,
    # 4 days → Mon Dec 7; slack −1; baseline finish was Fri Dec 4 → delay 1.
    c = got["C"]
    assert (c.earliest_start, c.earliest_finish, c.slack_days, c.delay_days) == (
        date(2026, 12, 2),
        date(2026, 12, 7),
        -1,
        1,
    )
    assert c.duration_source == "points" and c.duration_days == 4
    # D: no dates, 2 days after C → Tue Dec 8 – Wed Dec 9; no due date → no slack.
    d = got["D"]
    assert (d.earliest_start, d.earliest_finish, d.slack_days, d.depth) == (
        date(2026, 12, 8),
        date(2026, 12, 9),
        None,
        3,
    )
    assert d.duration_source == "points"


def test_new_due_date_slip_and_absorbed_delay():
    g = hand_graph()
    # Moving A to Thu 26 leaves B (starting Thu 26) one day late to start: start Fri 27, finish Mon 30.
    res = propagate(g, [Slip("A", new_finish=date(2026, 11, 26))], today=TODAY, durations=RATE)
    b, c = res.by_gid()["B"], res.by_gid()["C"]
    assert (b.earliest_finish, b.slack_days) == (date(2026, 11, 30), -1)
    # C's own start (Tue Dec 1) is after Mon 30, so the delay is absorbed: finish stays Fri Dec 4.
    assert (c.earliest_finish, c.slack_days, c.delay_days) == (date(2026, 12, 4), 0, 0)


def test_cycles_reported_without_hanging():
    g = build_graph(
        [
            TaskNode("A", due_on=date(2026, 11, 24)),
            TaskNode("B", depends_on=("A", "D")),
            TaskNode("C", depends_on=("B",)),
            TaskNode("D", depends_on=("C",)),  # B → C → D → B
            TaskNode("X", depends_on=("Y",)),
            TaskNode("Y", depends_on=("X",)),
            TaskNode("Z", depends_on=("A",)),
        ]
    )
    cycles = find_cycles(g)
    assert sorted(sorted(c) for c in cycles) == [["B", "C", "D"], ["X", "Y"]]
    res = propagate(g, [Slip("A", days=3)], today=TODAY)
    assert {a.gid for a in res.affected} == {"A", "Z"}
    assert res.skipped_in_cycle == ["B", "C", "D"]
    assert sorted(res.cycles[0]) == ["B", "C", "D"]
    cp = critical_path(g)
    assert not set(cp.gids) & {"B", "C", "D", "X", "Y"}


def test_critical_path_is_longest_duration_chain():
    cp = critical_path(hand_graph(), RATE)
    # A (3) → B (2) → C (4) → D (2) = 11 working days; E done, F (default 2) alone.
    assert cp.gids == ["A", "B", "C", "D"] and cp.working_days == 11


def test_unknown_slipped_task_is_an_error():
    with pytest.raises(KeyError):
        propagate(hand_graph(), [Slip("nope", days=1)], today=TODAY)


def test_cascade_10k_tasks_30k_edges_is_fast():
    from evals.bench_cascade import random_dag

    g, root = random_dag(10_000, 30_000, seed=3)
    t0 = time.perf_counter()
    res = propagate(g, [Slip(root, days=5)], today=TODAY)
    elapsed = time.perf_counter() - t0
    assert len(res.affected) > 1000
    assert elapsed < 2.0  # the benchmark target is 200 ms; leave room for a loaded CI machine
