"""Selection: exact optimum vs brute force, precedence, capacity, exclusions, cycles, determinism."""

from __future__ import annotations

import random

import numpy as np
import pytest

from evals.bench_planner import make_backlog
from tools.planning.models import BacklogItem, Selection
from tools.planning.scoring import score_items
from tools.planning.selection import quantize_scores, select

DONE_OUTSIDE = ["done-1", "done-2", "done-3"]


def random_instance(rng: random.Random) -> tuple[list[BacklogItem], dict[str, float], float]:
    """<= 18 open items, a random DAG among them, deps on done items (inside and outside the
    list), a few unknown deps, missing points, Blocked items, zero/negative scores."""
    n_open = rng.choice([rng.randint(0, 6), rng.randint(7, 18), rng.randint(12, 18)])
    n_done = rng.randint(0, 3)
    gids = [f"i{k}" for k in range(n_open + n_done)]
    rng.shuffle(gids)
    done_in_list = set(gids[:n_done])
    open_gids = gids[n_done:]
    items, scores = [], {}
    for k, gid in enumerate(open_gids):
        deps = [g for g in open_gids[:k] if rng.random() < 0.15]  # earlier open items only: a DAG
        if rng.random() < 0.3:
            deps.append(rng.choice([*DONE_OUTSIDE, *done_in_list] or DONE_OUTSIDE))
        if rng.random() < 0.04:
            deps.append("ghost")  # unfinished and not in the backlog
        rng.shuffle(deps)
        points = None if rng.random() < 0.07 else rng.choice([0, 0.5, 1, 2, 3, 5, 8, 13, 2.5])
        status = "Blocked" if rng.random() < 0.05 else rng.choice(["Not Started", "In Progress"])
        items.append(BacklogItem(gid=gid, points=points, status=status, depends_on=deps))
        # scores roughly proportional to points make greedy-by-density go wrong: a real test
        near_points = (points or 1) * rng.uniform(0.8, 1.25)
        scores[gid] = rng.choice([0.0, -3.0, round(rng.uniform(0, 100), 3), near_points, near_points])
    for gid in done_in_list:
        items.append(BacklogItem(gid=gid, points=3, completed=rng.random() < 0.5, status="Done"))
        scores[gid] = 50.0
    rng.shuffle(items)
    total = sum(it.points or 0 for it in items)
    if rng.random() < 0.05:
        capacity = 0.0
    elif rng.random() < 0.1:
        capacity = total + 1.0  # everything fits
    else:  # the interesting range: some but not all of the backlog fits
        capacity = round(total * rng.uniform(0.15, 0.7) * 2) / 2
    return items, scores, capacity


def brute_force(
    items: list[BacklogItem], scores: dict[str, float], capacity: float, scale: float
) -> tuple[int, float]:
    """Best quantised total (with the solver's own scale) over every subset of open items."""
    done = set(DONE_OUTSIDE) | {it.gid for it in items if it.completed or it.status == "Done"}
    open_items = [it for it in items if it.gid not in done]
    pos = {it.gid: k for k, it in enumerate(open_items)}
    n = len(open_items)
    masks = np.arange(2**n, dtype=np.int64)
    ok = np.ones(2**n, dtype=bool)
    weight = np.zeros(2**n, dtype=np.float64)
    value = np.zeros(2**n, dtype=np.int64)
    for k, it in enumerate(open_items):
        bit = ((masks >> k) & 1).astype(bool)
        if it.points is None or it.status == "Blocked":
            ok &= ~bit
            continue
        weight += bit * it.points
        value += bit * round(scores[it.gid] * scale)
        for dep in it.depends_on:
            if dep in done:
                continue
            if dep not in pos:
                ok &= ~bit
            else:
                ok &= ~bit | ((masks >> pos[dep]) & 1).astype(bool)
    ok &= weight <= capacity
    best = int(value[ok].max())
    return best, float(weight[ok][np.argmax(value[ok])])


def assert_feasible(items: list[BacklogItem], sel: Selection, done: set[str]) -> None:
    by_gid = {it.gid: it for it in items}
    chosen = set(sel.chosen)
    assert len(chosen) == len(sel.chosen)
    assert sum(by_gid[g].points or 0 for g in chosen) <= sel.capacity + 1e-9
    for g in chosen:
        it = by_gid[g]
        assert it.points is not None and it.status != "Blocked" and not it.completed
        for dep in it.depends_on:
            assert dep in done or dep in chosen, f"{g} chosen without its prerequisite {dep}"
            if dep in chosen:
                assert sel.chosen.index(dep) < sel.chosen.index(g), "prerequisites must come first"


def _quantised_total(sel: Selection, scores: dict[str, float]) -> int:
    return sum(round(scores[g] * sel.score_scale) for g in sel.chosen)


def test_exact_solver_matches_brute_force_on_200_random_instances() -> None:
    rng = random.Random(20261123)
    for case in range(200):
        items, scores, capacity = random_instance(rng)
        sel = select(items, capacity, scores=scores, done_gids=DONE_OUTSIDE)
        best, _ = brute_force(items, scores, capacity, sel.score_scale)
        done = set(DONE_OUTSIDE) | {it.gid for it in items if it.completed or it.status == "Done"}
        assert_feasible(items, sel, done)
        assert sel.status == "optimal" and sel.gap == 0.0, case
        assert _quantised_total(sel, scores) == best, f"case {case}: {sel}"
        # and against the real-valued scores, within the documented quantisation tolerance
        assert abs(sel.total_score - best / sel.score_scale) <= (len(items) + 1) / sel.score_scale


def test_heuristic_fallback_is_feasible_and_its_bound_is_valid() -> None:
    rng = random.Random(7)
    for case in range(120):
        items, scores, capacity = random_instance(rng)
        sel = select(items, capacity, scores=scores, done_gids=DONE_OUTSIDE, exact_size_limit=0)
        best, _ = brute_force(items, scores, capacity, sel.score_scale)
        done = set(DONE_OUTSIDE) | {it.gid for it in items if it.completed or it.status == "Done"}
        assert_feasible(items, sel, done)
        assert sel.solver in ("greedy", "greedy+local-search", "lp-bound", "presolve")
        got = _quantised_total(sel, scores)
        assert got <= best
        assert sel.bound * sel.score_scale >= best - 1e-6, f"case {case}: bound below the optimum"
        assert sel.gap >= 0.0
        if sel.status == "optimal":
            assert got == best


def test_precedence_forces_prerequisite_and_done_dependency_is_free() -> None:
    items = [
        BacklogItem(gid="cheap-prereq", points=5),
        BacklogItem(gid="valuable", points=3, depends_on=["cheap-prereq", "already-done"]),
        BacklogItem(gid="already-done", points=8, completed=True),
        BacklogItem(gid="decoy", points=6),
    ]
    scores = {"cheap-prereq": 0.0, "valuable": 10.0, "already-done": 99.0, "decoy": 9.0}
    sel = select(items, 8, scores=scores)
    assert sel.chosen == ["cheap-prereq", "valuable"]
    assert sel.total_score == 10.0 and sel.total_points == 8.0
    # with room for only 6 points the prerequisite cannot come along, so the decoy wins
    sel = select(items, 6, scores=scores)
    assert sel.chosen == ["decoy"]
    assert sel.over_capacity == {"valuable": 8.0}


def test_missing_points_unknown_and_blocked_are_excluded_with_reasons() -> None:
    items = [
        BacklogItem(gid="no-points", points=None),
        BacklogItem(gid="needs-no-points", points=1, depends_on=["no-points"]),
        BacklogItem(gid="needs-ghost", points=1, depends_on=["ghost"]),
        BacklogItem(gid="blocked", points=1, status="Blocked"),
        BacklogItem(gid="fine", points=1),
    ]
    scores = {it.gid: 5.0 for it in items}
    sel = select(items, 10, scores=scores)
    assert sel.chosen == ["fine"]
    assert "Story Points" in sel.excluded["no-points"]
    assert "no-points" in sel.excluded["needs-no-points"]
    assert "ghost" in sel.excluded["needs-ghost"] and "not in the backlog" in sel.excluded["needs-ghost"]
    assert "Blocked" in sel.excluded["blocked"]
    assert set(sel.excluded) == {"no-points", "needs-no-points", "needs-ghost", "blocked"}
    # Blocked items become plannable when the caller says so
    assert "blocked" in select(items, 10, scores=scores, exclude_blocked=False).chosen


def test_cycles_are_reported_and_excluded_not_looped_on() -> None:
    items = [
        BacklogItem(gid="a", points=1, depends_on=["b"]),
        BacklogItem(gid="b", points=1, depends_on=["c"]),
        BacklogItem(gid="c", points=1, depends_on=["a"]),
        BacklogItem(gid="self", points=1, depends_on=["self"]),
        BacklogItem(gid="after-cycle", points=1, depends_on=["c"]),
        BacklogItem(gid="free", points=1),
    ]
    sel = select(items, 100, scores={it.gid: 1.0 for it in items}, time_limit_s=1.0)
    assert sel.chosen == ["free"]
    assert sel.cycles == [["a", "b", "c"], ["self"]]  # "waits for" order, starting at the first item
    for gid in ("a", "b", "c", "self"):
        assert "cycle" in sel.excluded[gid]
    assert "depends on c" in sel.excluded["after-cycle"]


def test_scores_from_scoring_flow_through_and_score_exclusions_are_kept() -> None:
    items = [
        BacklogItem(gid="good", points=3, business_value=60, effort=2),
        BacklogItem(gid="no-bv", points=2, effort=2),
    ]
    sel = select(items, 10, scores=score_items(items, missing="exclude"))
    assert sel.chosen == ["good"]
    assert "business_value" in sel.excluded["no-bv"]
    # default scoring (missing -> score 0, flagged) keeps it choosable but worthless on its own
    sel = select(items, 10)
    assert sel.chosen == ["good"] and sel.total_score == pytest.approx(45.0)


def test_zero_and_negative_items_only_chosen_when_they_unlock_value() -> None:
    items = [
        BacklogItem(gid="neg", points=1),
        BacklogItem(gid="zero", points=1),
        BacklogItem(gid="top", points=1, depends_on=["neg"]),
    ]
    sel = select(items, 10, scores={"neg": -2.0, "zero": 0.0, "top": 5.0})
    assert sel.chosen == ["neg", "top"] and sel.total_score == 3.0
    sel = select(items, 10, scores={"neg": -6.0, "zero": 0.0, "top": 5.0})
    assert sel.chosen == []


def test_invalid_input_is_rejected() -> None:
    with pytest.raises(ValueError):
        select([BacklogItem(gid="x", points=1), BacklogItem(gid="x", points=2)], 5, scores={"x": 1})
    with pytest.raises(ValueError):
        select([], float("nan"), scores={})


def test_quantisation_scale_keeps_scores_inside_int_range() -> None:
    q, scale = quantize_scores([1e12, -3.5, 0.0])
    assert scale == 1e-3 and max(abs(v) for v in q) <= 1e9
    q, scale = quantize_scores([0.123456789, 45.0])
    assert scale == 1e7 and q == [1234568, 450000000]
    assert quantize_scores([]) == ([], 1.0)


def test_large_backlog_is_deterministic_and_optimal() -> None:
    items = make_backlog(800, 1200, seed=5)
    first = select(items, 50)
    second = select(list(items), 50)
    assert first == second
    assert first.status == "optimal" and first.total_points <= 50
    done = {it.gid for it in items if it.is_done}
    assert_feasible(items, first, done)


def test_exclusion_reasons_name_the_tasks_a_pm_knows() -> None:
    # Before: "depends on 1200000000000233, which cannot be planned" (a gid where the name is known).
    items = [
        BacklogItem(gid="1201", name="Load test payments", points=3, depends_on=["1202"]),
        BacklogItem(gid="1202", name="Payments API v2", points=None),
        BacklogItem(gid="1203", name="Loop A", points=1, depends_on=["1204"]),
        BacklogItem(gid="1204", name="Loop B", points=1, depends_on=["1203"]),
    ]
    sel = select(items, 100, scores={it.gid: 1.0 for it in items}, time_limit_s=1.0)
    assert sel.excluded["1201"] == (
        "depends on 'Payments API v2' (1202), which cannot be planned (no Story Points; estimate it first)"
    )
    assert "'Loop A' (1203) -> 'Loop B' (1204) -> 'Loop A' (1203)" in sel.excluded["1203"]
