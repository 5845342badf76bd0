"""LP bound of the precedence-constrained knapsack, and the items it rules out.

Relaxing the capacity with a multiplier ``lam >= 0`` leaves a maximum-weight closure problem
(weights ``w_i = score_i - lam * points_i``; a chosen item needs its prerequisites), which is a
minimum cut (Picard 1976), solved exactly by OR-tools' max-flow. For every ``lam``

    L(lam) = lam * capacity + max closure value  >=  the integer optimum,

and min over lam of L is the LP relaxation's value (precedence kept, unlike the Dantzig bound).
L is convex and piecewise linear in lam, so its minimum is found by intersecting the lines of
the closures on both sides of the capacity (a handful of max-flows).

The flow also gives reduced costs: ``rc_i = -(unused part of i's arc to the sink) <= 0`` (0
unless ``w_i < 0``). From LP duality, for every feasible 0/1 selection x,
``score . x <= L(lam) + sum_i rc_i x_i``; an item forces its prerequisites, so any selection
holding item i scores at most ``L(lam) + sum of rc over i and its prerequisites``. When that is
below the incumbent + 1 (scores are integers), no strictly better plan holds i: it is fixed out.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import numpy.typing as npt
from ortools.graph.python import max_flow

from tools.planning.knapsack import Problem

MAX_ITERATIONS = 40
_INT_ROOM = 2**61  # every flow quantity must stay inside int64


@dataclass(frozen=True)
class LpBound:
    lam: Fraction
    value: Fraction  # L(lam): an upper bound on the integer optimum
    reduced_cost: list[int]  # per item, in units of 1 / lam.denominator


class _ClosureSolver:
    """The min-cut network, built once; each lam only changes the source/sink capacities."""

    def __init__(self, prob: Problem) -> None:
        n = len(prob.gids)
        self.n = n
        self.score = np.array(prob.score, dtype=np.int64)
        self.points = np.array(prob.points, dtype=np.int64)
        tails = [i for i, pre in enumerate(prob.prereqs) for _ in pre]
        heads = [j for pre in prob.prereqs for j in pre]
        self.n_edges = len(tails)
        self.flow = max_flow.SimpleMaxFlow()
        source, sink = n, n + 1
        nodes = np.arange(n, dtype=np.int32)
        self.arcs = self.flow.add_arcs_with_capacity(
            np.concatenate([np.array(tails, dtype=np.int32), np.full(n, source, np.int32), nodes]),
            np.concatenate([np.array(heads, dtype=np.int32), nodes, np.full(n, sink, np.int32)]),
            np.zeros(self.n_edges + 2 * n, dtype=np.int64),
        )

    def fits_int64(self, lam: Fraction) -> bool:
        # float estimate of the largest flow sums, far from the limit so rounding cannot matter
        total = float(lam.denominator) * float(np.abs(self.score).sum()) + float(lam.numerator) * float(
            self.points.sum()
        )
        return total < _INT_ROOM

    def solve(self, lam: Fraction) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.int64]] | None:
        """Max closure at lam (as a mask) and the reduced costs, or None if the flow failed."""
        n, e = self.n, self.n_edges
        w = self.score * lam.denominator - self.points * lam.numerator
        pos, neg = np.maximum(w, 0), np.maximum(-w, 0)
        # a precedence arc can never be cut: more than all source capacity together
        self.flow.set_arcs_capacity(self.arcs[:e], np.full(e, int(pos.sum()) + 1, dtype=np.int64))
        self.flow.set_arcs_capacity(self.arcs[e : e + n], pos)
        self.flow.set_arcs_capacity(self.arcs[e + n :], neg)
        if self.flow.solve(n, n + 1) != self.flow.OPTIMAL:
            return None
        side = np.asarray(self.flow.get_source_side_min_cut(), dtype=np.int64)
        closure = np.zeros(n, dtype=bool)
        closure[side[side < n]] = True
        used = np.asarray(self.flow.flows(self.arcs[e + n :]), dtype=np.int64)
        return closure, used - neg


def lp_bound(prob: Problem, start: Fraction) -> LpBound | None:
    """min over lam of L(lam), starting the search at ``start`` (e.g. the Dantzig critical ratio).
    None when the flow numbers would not fit in int64 (then only weaker bounds are used)."""
    solver = _ClosureSolver(prob)
    cap = prob.capacity
    best: LpBound | None = None

    def evaluate(lam: Fraction) -> tuple[int, int] | None:
        nonlocal best
        if not solver.fits_int64(lam):
            return None
        got = solver.solve(lam)
        if got is None:
            return None
        closure, rc = got
        pts, val = int(solver.points[closure].sum()), int(solver.score[closure].sum())
        bound = lam * cap + val - lam * pts
        if best is None or bound < best.value:
            best = LpBound(lam, bound, rc.tolist())
        return pts, val

    zero = evaluate(Fraction(0))
    if zero is None or zero[0] <= cap:
        return best  # the unconstrained best closure fits: L(0) is attained, nothing to search
    # bracket: lo has its closure over the capacity (slope < 0), hi within it (slope >= 0)
    lo, lo_pv = Fraction(0), zero
    hi = _fitting(max(start, Fraction(1, 1000)), solver) or Fraction(1)
    hi_pv = evaluate(hi)
    while hi_pv is not None and hi_pv[0] > cap:
        lo, lo_pv, hi = hi, hi_pv, hi * 4
        hi_pv = evaluate(hi)
    if hi_pv is None:
        return best
    for _ in range(MAX_ITERATIONS):
        (p_lo, v_lo), (p_hi, v_hi) = lo_pv, hi_pv
        if p_lo == p_hi:
            break
        exact = Fraction(v_lo - v_hi, p_lo - p_hi)  # where the two closures' lines cross
        lam = _fitting(exact, solver)
        if lam is None or not lo < lam < hi:
            break  # no finer step fits in int64: keep the best bound so far (any lam is valid)
        pv = evaluate(lam)
        if pv is None:
            break
        line = lam * cap + v_lo - lam * p_lo
        if lam == exact and lam * cap + pv[1] - lam * pv[0] <= line:
            break  # no closure rises above the crossing: it is the minimum
        if pv[0] > cap:
            lo, lo_pv = lam, pv
        elif pv[0] < cap:
            hi, hi_pv = lam, pv
        else:
            break  # slope 0: minimum
    return best


def _fitting(lam: Fraction, solver: _ClosureSolver) -> Fraction | None:
    """lam, or the nearest fraction with a denominator small enough for int64 flows."""
    for max_den in (0, 10**9, 10**6, 10**3, 1):
        cand = lam.limit_denominator(max_den) if max_den else lam
        if solver.fits_int64(cand):
            return cand
    return None


def fix_by_bound(prob: Problem, lp: LpBound, incumbent: int) -> list[bool]:
    """Per item: may a plan strictly better than ``incumbent`` hold it? (see module docstring).
    The kept set is prerequisite-closed: an item's prerequisites have no more reduced cost."""
    den = lp.lam.denominator
    top = int(lp.value * den)  # exact: lam * den is an integer, and so are scores and points
    need = (incumbent + 1) * den
    rc = lp.reduced_cost
    keep: list[bool] = []
    for i in range(len(prob.gids)):
        total, stack, seen = top + rc[i], [i], {i}
        while stack and total >= need:
            for j in prob.prereqs[stack.pop()]:
                if j not in seen:
                    seen.add(j)
                    total += rc[j]
                    stack.append(j)
        keep.append(total >= need)
    return keep
