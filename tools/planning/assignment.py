"""Balanced assignment of the chosen sprint items to people.

Skill affinity of a person for an item (0..1): the mean, over the item's *skill tags* (tags
some team member lists as a skill or has history on), of
``0.5 * [tag in person's skills] + 0.5 * (person's past points on the tag / the most anyone has)``
(the history half falls back to the skills half when nobody has history on the tag).

The assignment is decided lexicographically by a small CP-SAT model (exact, one worker, fixed
seed, deterministic time limit) in three stages:

1. minimise the total points over personal capacities: 0 whenever a fitting assignment exists,
   so nobody is overloaded unless it is unavoidable (then the overloaded people are flagged with
   the reason);
2. keeping that, keep as many already-assigned items with their current assignee as possible;
3. keeping both, maximise ``skill_match - balance_weight * max_load_ratio`` where skill_match is
   the points-weighted mean affinity (0..1) and max_load_ratio the highest assigned/capacity.

Loads are sums of item points, so whole multiples of the items' gcd; when a capacity is not
(fractional shares of whole-point items) the LP relaxation is weak and stages 1 and 3 would run to
their time limits, so the model gets two valid floors (``overload_floor``, ``ratio_floor``) and
CP-SAT stops as soon as a plan meets them.

Above ``exact_limit`` item-person pairs (or if CP-SAT fails) a greedy pass is used instead:
largest items first, each to the person with the best ``affinity - balance_weight * load ratio``
among those it fits (the least-overloading one when it fits nobody).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from ortools.sat.python import cp_model

from tools.planning.models import Assignment, AssignmentFlag, BacklogItem, Person, PersonLoad
from tools.planning.scaling import point_scale

DEFAULT_BALANCE_WEIGHT = 0.5
DEFAULT_EXACT_LIMIT = 4000  # item-person pairs
RATIO_UNITS = 1000  # load ratios are per-mille inside the model
AFFINITY_UNITS = 100


def affinity_table(items: Sequence[BacklogItem], people: Sequence[Person]) -> dict[tuple[str, str], float]:
    """(item gid, person gid) -> affinity in 0..1, as described in the module docstring."""
    skills = {p.gid: {s.lower() for s in p.skills} for p in people}
    history = {p.gid: {t.lower(): max(v, 0.0) for t, v in p.tag_history.items()} for p in people}
    known = set().union(*skills.values(), *(h.keys() for h in history.values())) if people else set()
    top: dict[str, float] = {}
    for h in history.values():
        for t, v in h.items():
            top[t] = max(top.get(t, 0.0), v)
    table: dict[tuple[str, str], float] = {}
    for it in items:
        tags = sorted({t.lower() for t in it.tags} & known)
        for p in people:
            if not tags:
                table[(it.gid, p.gid)] = 0.0
                continue
            total = 0.0
            for t in tags:
                has_skill = 1.0 if t in skills[p.gid] else 0.0
                hist = history[p.gid].get(t, 0.0) / top[t] if top.get(t, 0.0) > 0 else has_skill
                total += 0.5 * has_skill + 0.5 * hist
            table[(it.gid, p.gid)] = total / len(tags)
    return table


@dataclass
class _Instance:
    items: list[BacklogItem]
    people: list[Person]
    pts: list[int]  # scaled integer points per item
    cap: list[int]  # scaled integer capacity per person (floor)
    aff: list[list[int]]  # [item][person] affinity in AFFINITY_UNITS
    current: list[int | None]  # index of the current assignee, when in the team
    balance_weight: float


def _ratio(load: int, cap: int) -> float:
    if cap > 0:
        return load / cap
    return math.inf if load > 0 else 0.0


def _greedy(inst: _Instance) -> list[int]:
    n_people = len(inst.people)
    load = [0] * n_people
    out = [0] * len(inst.items)
    order = sorted(range(len(inst.items)), key=lambda i: (-inst.pts[i], i))
    # already-assigned items first so they keep their person while room is left
    order.sort(key=lambda i: inst.current[i] is None)
    for i in order:
        cur = inst.current[i]
        if cur is not None and load[cur] + inst.pts[i] <= inst.cap[cur]:
            out[i] = cur
            load[cur] += inst.pts[i]
            continue
        fits = [p for p in range(n_people) if load[p] + inst.pts[i] <= inst.cap[p]]
        if fits:

            def merit(p: int, i: int = i) -> tuple[float, int]:
                after = _ratio(load[p] + inst.pts[i], inst.cap[p])
                return (inst.aff[i][p] / AFFINITY_UNITS - inst.balance_weight * after, -p)

            best = max(fits, key=merit)
        else:  # overloading is unavoidable for this heuristic: least excess, then most room
            best = min(range(n_people), key=lambda p: (load[p] + inst.pts[i] - inst.cap[p], -inst.cap[p], p))
        out[i] = best
        load[best] += inst.pts[i]
    return out


def overload_floor(pts: Sequence[int], cap: Sequence[int]) -> int:
    """A lower bound on the least total overload: loads are sums of item points, so multiples of
    their gcd g; splitting the scope into g-sized units, each person takes floor(cap / g) units
    free, one more unit costs g - (cap mod g), any further unit g. Units go to the cheapest slots
    (the costs per person only grow, so this is the relaxation's optimum). With whole-point items
    and fractional capacities this is usually the true optimum, so CP-SAT can stop at once instead
    of searching to its time limit for a proof."""
    total = sum(pts)
    g = math.gcd(*pts) if any(pts) else 0
    if g == 0:
        return 0
    excess = total // g - sum(c // g for c in cap)
    if excess <= 0:
        return 0
    first = sorted(g - c % g for c in cap)  # one partially free unit per person
    costs = first + [g] * max(0, excess - len(first))
    return sum(sorted(costs)[:excess])


def ratio_floor(pts: Sequence[int], cap: Sequence[int]) -> int:
    """A lower bound on the highest load ratio (per mille, as the model counts it): at ratio r a
    person holds at most floor(r * cap / 1000) points, in whole multiples of the items' gcd; the
    least r at which that room holds the whole scope. Stage 3 then starts from a bound it would
    otherwise have to prove (valid when every capacity is positive)."""
    total = sum(pts)
    g = math.gcd(*pts) if any(pts) else 0
    positive = [c for c in cap if c > 0]
    if g == 0 or not positive:
        return 0

    def holds(r: int) -> bool:
        return sum(r * c // RATIO_UNITS // g * g for c in positive) >= total

    lo, hi = 0, RATIO_UNITS * total // min(positive) + 1
    while lo < hi:
        mid = (lo + hi) // 2
        if holds(mid):
            hi = mid
        else:
            lo = mid + 1
    return lo


def _cp_sat(
    inst: _Instance, hint: list[int], time_limit_s: float, seed: int
) -> tuple[list[int], bool] | None:
    n_items, n_people = len(inst.items), len(inst.people)
    total = sum(inst.pts)
    model = cp_model.CpModel()
    x = [[model.new_bool_var(f"x{i}_{p}") for p in range(n_people)] for i in range(n_items)]
    over = [model.new_int_var(0, total, f"over{p}") for p in range(n_people)]
    positive = [c for c in inst.cap if c > 0]
    r_max = RATIO_UNITS * total // min(positive) + 1 if positive else 0
    ratio = model.new_int_var(0, r_max, "max_ratio")
    # The floors only say more than the LP when a capacity is not a whole number of load steps
    # (the items' gcd), e.g. fractional shares of whole-point items; otherwise the model is left
    # as it was, so plans on whole-point shares stay the same (CP-SAT's pick among equal optima).
    step = math.gcd(*inst.pts) if any(inst.pts) else 0
    floors = step > 0 and any(c % step for c in inst.cap)
    if floors and all(c > 0 for c in inst.cap):  # with a zero capacity the ratio skips that person
        model.add(ratio >= ratio_floor(inst.pts, inst.cap))
    for i in range(n_items):
        model.add_exactly_one(x[i])
        for p in range(n_people):
            model.add_hint(x[i][p], hint[i] == p)
    for p in range(n_people):
        load = sum(inst.pts[i] * x[i][p] for i in range(n_items))
        model.add(load <= inst.cap[p] + over[p])
        if inst.cap[p] > 0:
            model.add(RATIO_UNITS * load <= inst.cap[p] * ratio)
    total_over = sum(over)
    kept = sum(x[i][c] for i, c in enumerate(inst.current) if c is not None)
    match = sum(inst.aff[i][p] * inst.pts[i] * x[i][p] for i in range(n_items) for p in range(n_people))

    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = seed
    # one third of the budget per stage; deterministic limits keep time-limited answers repeatable
    solver.parameters.max_deterministic_time = time_limit_s / 3
    solver.parameters.max_time_in_seconds = time_limit_s + 1.0
    all_optimal = True

    def run() -> bool:
        nonlocal all_optimal
        code = solver.solve(model)
        all_optimal = all_optimal and code == cp_model.OPTIMAL
        return code in (cp_model.OPTIMAL, cp_model.FEASIBLE)

    def keep_solution() -> None:
        model.proto.clear_solution_hint()  # what clear_hints() does; that one is unannotated
        for i in range(n_items):
            for p in range(n_people):
                model.add_hint(x[i][p], solver.boolean_value(x[i][p]))

    # stage 1: as little overload as possible (never below the unit relaxation's floor)
    if floors:
        model.add(total_over >= overload_floor(inst.pts, inst.cap))
    model.minimize(total_over)
    if not run():
        return None
    model.add(total_over <= round(solver.objective_value))
    keep_solution()
    # stage 2: keep current assignees where that costs no overload
    model.maximize(kept)
    if not run():
        return None
    model.add(kept >= round(solver.objective_value))
    keep_solution()
    # stage 3: skill match vs balance, both normalised (see module docstring), scaled to integers:
    # match/(AFFINITY_UNITS*total) - w*ratio/RATIO_UNITS, times AFFINITY_UNITS*RATIO_UNITS*total
    weight = round(inst.balance_weight * AFFINITY_UNITS)
    model.maximize(RATIO_UNITS * match - weight * total * ratio)
    if not run():
        return None
    out = [next(p for p in range(n_people) if solver.boolean_value(x[i][p])) for i in range(n_items)]
    return out, all_optimal


def _overload_reason(inst: _Instance, optimal: bool, scale: int) -> str:
    total, team = sum(inst.pts), sum(inst.cap)
    if total > team:
        return (
            f"unavoidable: the scope ({total / scale:g} pts) exceeds the team's capacity ({team / scale:g})"
        )
    biggest = max(inst.pts, default=0)
    if biggest > max(inst.cap, default=0):
        return "unavoidable: an item is larger than anyone's personal capacity"
    # loads are sums of item points, so a personal capacity is only usable in multiples of their gcd
    step = math.gcd(*inst.pts) if any(inst.pts) else 0
    usable = sum(c // step * step for c in inst.cap) if step else team
    if total > usable:
        return (
            f"unavoidable: personal capacities rounded down to multiples of {step / scale:g} pts "
            f"hold only {usable / scale:g} of the scope's {total / scale:g} pts"
        )
    if optimal:
        return "unavoidable: the items cannot be split so that everyone stays within capacity"
    return "no fitting assignment found (heuristic; a fitting one may exist)"


def assign(
    items: Sequence[BacklogItem],
    people: Sequence[Person],
    capacities: Mapping[str, float],
    *,
    balance_weight: float = DEFAULT_BALANCE_WEIGHT,
    keep_existing: bool = True,
    time_limit_s: float = 1.0,
    exact_limit: int = DEFAULT_EXACT_LIMIT,
    seed: int = 0,
) -> Assignment:
    """Assign every item to one person. ``capacities``: person gid -> points for this sprint
    (e.g. ``CapacityPlan.per_person``); people missing from it get 0."""
    if not people:
        raise ValueError("cannot assign without people")
    flags: list[AssignmentFlag] = []
    index = {p.gid: k for k, p in enumerate(people)}
    raw_pts = []
    for it in items:
        if it.points is None:
            flags.append(
                AssignmentFlag(
                    person_gid=None,
                    item_gid=it.gid,
                    kind="missing_points",
                    message=f"{it.gid} has no Story Points; counted as 0",
                )
            )
        raw_pts.append(max(float(it.points or 0.0), 0.0))
    raw_caps = [max(float(capacities.get(p.gid, 0.0)), 0.0) for p in people]
    scale = point_scale([*raw_pts, *raw_caps])
    current: list[int | None] = []
    for it in items:
        cur = index.get(it.assignee_gid) if (keep_existing and it.assignee_gid) else None
        if keep_existing and it.assignee_gid and cur is None:
            flags.append(
                AssignmentFlag(
                    person_gid=it.assignee_gid,
                    item_gid=it.gid,
                    kind="unknown_assignee",
                    message=f"{it.gid} is assigned to {it.assignee_gid}, who is not in the team; reassigned",
                )
            )
        current.append(cur)
    aff = affinity_table(items, people)
    inst = _Instance(
        items=list(items),
        people=list(people),
        pts=[round(v * scale) for v in raw_pts],
        cap=[math.floor(c * scale + 1e-9) for c in raw_caps],
        aff=[[round(aff[(it.gid, p.gid)] * AFFINITY_UNITS) for p in people] for it in items],
        current=current,
        balance_weight=balance_weight,
    )

    plan = _greedy(inst)
    solver_name = "greedy"
    status: Literal["optimal", "feasible", "greedy"] = "greedy"
    if items and len(items) * len(people) <= exact_limit:
        exact = _cp_sat(inst, plan, time_limit_s, seed)
        if exact is not None:
            plan, proved = exact
            solver_name, status = "cp-sat", "optimal" if proved else "feasible"

    loads = [0] * len(people)
    for i, p in enumerate(plan):
        loads[p] += inst.pts[i]
    reason = _overload_reason(inst, status == "optimal", scale)
    for i, cur in enumerate(current):
        if cur is not None and plan[i] != cur:
            flags.append(
                AssignmentFlag(
                    person_gid=people[cur].gid,
                    item_gid=items[i].gid,
                    kind="kept_assignee_moved",
                    message=f"{items[i].gid} moved from {people[cur].name or people[cur].gid}: keeping it "
                    "would overload them",
                )
            )
    table: list[PersonLoad] = []
    for k, person in enumerate(people):
        mine = [i for i, p in enumerate(plan) if p == k]
        over = loads[k] > inst.cap[k]
        pts_mine = sum(inst.pts[i] for i in mine)
        weighted = sum(inst.aff[i][k] * inst.pts[i] for i in mine)
        match = weighted / (AFFINITY_UNITS * pts_mine) if pts_mine else 0.0
        table.append(
            PersonLoad(
                gid=person.gid,
                name=person.name,
                capacity=raw_caps[k],
                assigned_points=loads[k] / scale,
                load_ratio=_ratio(loads[k], inst.cap[k]),
                items=[items[i].gid for i in mine],
                skill_match=match,
                over_capacity=over,
            )
        )
        if over:
            flags.append(
                AssignmentFlag(
                    person_gid=person.gid,
                    item_gid=None,
                    kind="over_capacity",
                    message=f"{person.name or person.gid} over capacity: {loads[k] / scale:g} of "
                    f"{raw_caps[k]:g} points; {reason}",
                )
            )
    total = sum(inst.pts)
    weighted_all = sum(inst.aff[i][p] * inst.pts[i] for i, p in enumerate(plan))
    overall = weighted_all / (AFFINITY_UNITS * total) if total else 0.0
    return Assignment(
        assignments={items[i].gid: people[p].gid for i, p in enumerate(plan)},
        loads=table,
        flags=flags,
        solver=solver_name,
        status=status,
        max_load_ratio=max((row.load_ratio for row in table), default=0.0),
        skill_match=overall,
    )
