"""Solve the reduced knapsack: greedy incumbent, LP bound, fixing by bound, CP-SAT on what is left.

1. Greedy fill (best score per point with missing prerequisites): the incumbent and CP-SAT's hint.
2. Bounds: the Dantzig bound (precedence dropped), then the LP bound with precedence kept
   (tools.planning.closure_bound). When the incumbent meets either, it is proven optimal.
3. Fixing by bound: items no plan better than the incumbent can hold are removed (usually all but
   a few hundred of 10,000+); the rest is prerequisite-closed, so it is a knapsack of its own.
   Then dominance among its isolated items (tools.planning.knapsack.undominated) keeps only
   those that could still matter: every better plan lies in the rest, and some optimal one avoids
   the dominated items.
4. CP-SAT (exact) on that rest when it has at most ``exact_size_limit`` items, one worker, fixed
   seed, deterministic time limit (repeatable). The optimum is the better of its answer and the
   incumbent; when time runs out the bound is ``max(incumbent, CP-SAT's bound)``, never above the
   LP bound. Above the limit (or if CP-SAT fails) the rest gets greedy + local search and the gap
   is reported against the LP bound.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction

from ortools.sat.python import cp_model

from tools.planning.closure_bound import fix_by_bound, lp_bound
from tools.planning.knapsack import (
    Problem,
    fractional_bound,
    greedy_fill,
    local_search,
    prune,
    undominated,
)


@dataclass
class Solution:
    chosen: set[int]
    value: int
    bound: int  # proven upper bound on the integer optimum (== value when optimal)
    optimal: bool
    solver: str
    solve_items: int  # items left after fixing by bound (the exact model's size)
    notes: list[str] = field(default_factory=list)


@dataclass
class _Exact:
    chosen: set[int] | None
    optimal: bool
    bound: float | None
    status: str


def _floor(bound: float | Fraction) -> int:
    # the integer optimum is at most floor(bound); the epsilon guards against a float sum landing
    # just below a whole number, which would wrongly certify optimality
    if isinstance(bound, Fraction):
        return math.floor(bound)
    return math.floor(bound + 1e-6)


def _critical_ratio(prob: Problem) -> Fraction:
    """Score per point of the item the Dantzig bound splits: the multiplier of the precedence-free
    relaxation, a good start for the LP's."""
    room = prob.capacity
    ranked = sorted(
        (i for i in range(len(prob.gids)) if prob.score[i] > 0 and prob.points[i] > 0),
        key=lambda i: -prob.score[i] / prob.points[i],
    )
    for i in ranked:
        if prob.points[i] > room:
            return Fraction(prob.score[i], prob.points[i])
        room -= prob.points[i]
    return Fraction(prob.score[ranked[-1]], prob.points[ranked[-1]]) if ranked else Fraction(0)


def _cp_sat(prob: Problem, hint: set[int], time_limit_s: float, seed: int, workers: int) -> _Exact:
    model = cp_model.CpModel()
    x = [model.new_bool_var(f"x{i}") for i in range(len(prob.gids))]
    for i, pre in enumerate(prob.prereqs):
        for j in pre:
            model.add_implication(x[i], x[j])
    model.add(sum(prob.points[i] * x[i] for i in range(len(x))) <= prob.capacity)
    model.maximize(sum(prob.score[i] * x[i] for i in range(len(x))))
    for i, var in enumerate(x):
        model.add_hint(var, i in hint)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = workers
    solver.parameters.random_seed = seed
    # the deterministic limit makes a time-limited answer repeatable; wall time is a safety net
    solver.parameters.max_deterministic_time = time_limit_s
    solver.parameters.max_time_in_seconds = 2 * time_limit_s + 1.0
    code = solver.solve(model)
    name = solver.status_name(code)
    if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        chosen = {i for i in range(len(x)) if solver.boolean_value(x[i])}
        return _Exact(chosen, code == cp_model.OPTIMAL, solver.best_objective_bound, name)
    return _Exact(None, False, None, name)


def solve(prob: Problem, *, time_limit_s: float, exact_size_limit: int, seed: int, workers: int) -> Solution:
    n = len(prob.gids)
    if n == 0:
        return Solution(set(), 0, 0, True, "presolve", 0)
    chosen = prune(prob, greedy_fill(prob))
    value = prob.value(chosen)
    bound = _floor(fractional_bound(prob))
    if value >= bound:
        return Solution(
            chosen, value, value, True, "greedy", 0, ["greedy result meets the fractional upper bound"]
        )
    lp = lp_bound(prob, _critical_ratio(prob))
    notes: list[str] = []
    if lp is None:
        notes.append("LP bound skipped (numbers beyond int64); Dantzig bound used")
    else:
        bound = min(bound, _floor(lp.value))
        if value >= bound:
            return Solution(chosen, value, value, True, "greedy", 0, ["greedy result meets the LP bound"])
    keep = fix_by_bound(prob, lp, value) if lp is not None else [True] * n
    rest = [i for i in range(n) if keep[i]]
    if lp is not None:
        notes.append(f"LP bound fixed {n - len(rest)} of {n} items out (no better plan holds them)")
    sub, ids = prob.restricted(rest)
    # dominance last: within the rest, items lose dependents and become isolated
    kept = undominated(sub)
    if not all(kept):
        notes.append(f"dominance removed {kept.count(False)} isolated items")
        sub, inner = sub.restricted([k for k, ok in enumerate(kept) if ok])
        ids = [ids[k] for k in inner]
        rest = ids
    if not rest:
        return Solution(chosen, value, value, True, "lp-bound", 0, notes)
    optimal = False
    exact: _Exact | None = None
    if len(rest) <= exact_size_limit:
        hint = {k for k, i in enumerate(ids) if i in chosen}  # closed: both sets are
        exact = _cp_sat(sub, hint, time_limit_s, seed, workers)
        if exact.chosen is None:
            notes.append(f"CP-SAT returned {exact.status}; heuristic result kept")
            exact = None
    else:
        notes.append(
            f"{len(rest)} items after fixing > exact_size_limit {exact_size_limit}: "
            "heuristic result, gap to the LP bound"
        )
    if exact is not None and exact.chosen is not None:
        found = {ids[k] for k in prune(sub, exact.chosen)}
        solver_name = "cp-sat"
        if prob.value(found) > value:
            chosen, value = found, prob.value(found)
        if exact.optimal:
            optimal = True  # the rest holds every better plan, and CP-SAT proved the rest's best
        elif exact.bound is not None:
            bound = min(bound, max(value, _floor(exact.bound)))
            notes.append(f"CP-SAT stopped at its time limit ({exact.status}); gap to its bound")
    else:
        better = local_search(sub, prune(sub, greedy_fill(sub)))
        found = {ids[k] for k in better}
        if prob.value(found) > value:
            chosen, value = found, prob.value(found)
        solver_name = "greedy+local-search"
    optimal = optimal or value >= bound
    return Solution(
        chosen, value, value if optimal else max(bound, value), optimal, solver_name, len(rest), notes
    )
