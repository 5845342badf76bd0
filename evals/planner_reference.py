"""The sprint selection as it was before issue 23 (commit 4005855), kept as the reference that
`make bench` times the new one against (evals/bench_planner.py): greedy + local search, CP-SAT on
the whole presolved model up to 3,000 items, above that the greedy result with its gap to the
Dantzig bound. The code below is unchanged but for this docstring; not used by the product."""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

import networkx as nx
from ortools.sat.python import cp_model

from tools.planning.models import BacklogItem, ItemScore, Selection
from tools.planning.scaling import point_scale, quantize_scores

DEFAULT_EXACT_SIZE_LIMIT = 3000
LOCAL_SEARCH_ROUNDS = 50
MAX_REFILLS = 400

__all__ = ["DEFAULT_EXACT_SIZE_LIMIT", "quantize_scores", "select"]


@dataclass
class _Problem:
    """Reduced model over indices 0..n-1 (prerequisites closed, dependency order)."""

    gids: list[str]
    score: list[int]
    points: list[int]
    capacity: int
    prereqs: list[list[int]]  # unfinished prerequisites within the model
    dependents: list[list[int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.dependents = [[] for _ in self.gids]
        for i, pre in enumerate(self.prereqs):
            for j in pre:
                self.dependents[j].append(i)

    def value(self, chosen: Collection[int]) -> int:
        return sum(self.score[i] for i in chosen)

    def weight(self, chosen: Collection[int]) -> int:
        return sum(self.points[i] for i in chosen)


# ----------------------------------------------------------------------------------------------
# exclusions and cycles


def _cycle_of(graph: nx.DiGraph, component: set[str], order: Mapping[str, int]) -> list[str]:
    """One concrete cycle inside a strongly connected component, starting at its first item."""
    start = min(component, key=order.__getitem__)
    sub = graph.subgraph(component)
    edges = nx.find_cycle(sub, source=start)
    # graph edges run prerequisite -> dependent; report in "waits for" order instead
    cycle = [u for u, _ in edges][::-1]
    # rotate so the report starts at the first item of the backlog: stable, readable output
    k = min(range(len(cycle)), key=lambda t: order[cycle[t]])
    return cycle[k:] + cycle[:k]


def _exclusions(
    items: Sequence[BacklogItem],
    scores: Mapping[str, ItemScore],
    done: set[str],
    exclude_blocked: bool,
) -> tuple[list[str], dict[str, str], list[list[str]], nx.DiGraph]:
    """Open candidates in dependency order, exclusions with reasons, cycles, dependency graph."""
    order = {it.gid: k for k, it in enumerate(items)}
    by_gid = {it.gid: it for it in items}
    open_items = [it for it in items if it.gid not in done]
    # edges prerequisite -> dependent, among open items only (done prerequisites are satisfied)
    graph: nx.DiGraph = nx.DiGraph()
    graph.add_nodes_from(it.gid for it in open_items)
    for it in open_items:
        for dep in it.depends_on:
            if dep in by_gid and dep not in done:
                graph.add_edge(dep, it.gid)

    excluded: dict[str, str] = {}
    cycles: list[list[str]] = []
    components = [c for c in nx.strongly_connected_components(graph) if len(c) > 1]
    components += [{n} for n in nx.nodes_with_selfloops(graph)]
    components.sort(key=lambda c: min(order[g] for g in c))
    for comp in components:
        cycle = _cycle_of(graph, comp, order)
        cycles.append(cycle)
        text = " -> ".join([*cycle, cycle[0]])
        for gid in sorted(comp, key=order.__getitem__):
            excluded[gid] = f"in a dependency cycle ({text}, each waits for the next); fix the dependencies"

    for it in open_items:
        if it.gid in excluded:
            continue
        sc = scores.get(it.gid)
        reason: str | None = None
        if it.points is None:
            reason = "no Story Points; estimate it first"
        elif not math.isfinite(it.points) or it.points < 0:
            reason = f"invalid Story Points {it.points!r}"
        elif sc is None:
            reason = "no score"
        elif sc.excluded:
            reason = sc.reason or "excluded by scoring"
        elif exclude_blocked and (it.status or "").strip().lower() == "blocked":
            reason = "status is Blocked"
        else:
            missing = [d for d in it.depends_on if d not in by_gid and d not in done]
            if missing:
                reason = f"depends on {missing[0]}, which is unfinished and not in the backlog"
        if reason is not None:
            excluded[it.gid] = reason

    acyclic = graph.copy()
    acyclic.remove_nodes_from([g for c in components for g in c])
    topo = list(nx.lexicographical_topological_sort(acyclic, key=order.__getitem__))
    for gid in topo:  # prerequisites first, so exclusion propagates in one pass
        if gid in excluded:
            continue
        bad = sorted((p for p in graph.predecessors(gid) if p in excluded), key=order.__getitem__)
        if bad:
            excluded[gid] = f"depends on {bad[0]}, which cannot be planned ({excluded[bad[0]]})"
    candidates = [g for g in topo if g not in excluded]
    return candidates, excluded, cycles, graph


# ----------------------------------------------------------------------------------------------
# heuristic


def _closure(prob: _Problem, i: int, chosen: set[int], limit: int, banned: set[int]) -> list[int] | None:
    """i plus its prerequisites not yet chosen, or None if that needs more than `limit` points
    or touches a banned item."""
    stack, seen, pts = [i], {i}, 0
    out: list[int] = []
    while stack:
        k = stack.pop()
        if k in banned:
            return None
        pts += prob.points[k]
        if pts > limit:
            return None
        out.append(k)
        for j in prob.prereqs[k]:
            if j not in chosen and j not in seen:
                seen.add(j)
                stack.append(j)
    return out


def _greedy_fill(prob: _Problem, chosen: set[int], banned: set[int]) -> set[int]:
    chosen = set(chosen)
    room = prob.capacity - prob.weight(chosen)
    while True:
        best: list[int] | None = None
        best_gain, best_pts = 0, 1
        for i in range(len(prob.gids)):
            if i in chosen or i in banned:
                continue
            group = _closure(prob, i, chosen, room, banned)
            if group is None:
                continue
            gain = sum(prob.score[k] for k in group)
            if gain <= 0:
                continue
            pts = sum(prob.points[k] for k in group)
            # compare gain/pts densities exactly in integers; zero-point groups rank first
            if (
                best is None
                or gain * best_pts > best_gain * pts
                or (gain * best_pts == best_gain * pts and gain > best_gain)
            ):
                best, best_gain, best_pts = group, gain, pts
        if best is None:
            return chosen
        chosen.update(best)
        room -= sum(prob.points[k] for k in best)


def _dependents_within(prob: _Problem, i: int, chosen: set[int]) -> set[int]:
    out, stack = {i}, [i]
    while stack:
        k = stack.pop()
        for d in prob.dependents[k]:
            if d in chosen and d not in out:
                out.add(d)
                stack.append(d)
    return out


def _heuristic(prob: _Problem) -> set[int]:
    """Greedy plus first-improvement local search, bounded by a count of refills (not wall time)
    so the answer is the same on a slow or busy machine."""
    best = _greedy_fill(prob, set(), set())
    best_val = prob.value(best)
    budget = MAX_REFILLS
    for _ in range(LOCAL_SEARCH_ROUNDS):
        improved = False
        for r in sorted(best):
            if budget <= 0:
                return best
            budget -= 1
            kept = best - _dependents_within(prob, r, best)
            cand = _greedy_fill(prob, kept, {r})
            val = prob.value(cand)
            if val > best_val:
                best, best_val, improved = cand, val, True
                break
        if not improved:
            break
    return best


def _fractional_bound(prob: _Problem) -> float:
    """Dantzig bound of the knapsack with precedence dropped: a valid upper bound."""
    pos = [i for i in range(len(prob.gids)) if prob.score[i] > 0]
    free = [i for i in pos if prob.points[i] == 0]
    rest = sorted((i for i in pos if prob.points[i] > 0), key=lambda i: -prob.score[i] / prob.points[i])
    bound, room = float(sum(prob.score[i] for i in free)), float(prob.capacity)
    for i in rest:
        if prob.points[i] <= room:
            bound += prob.score[i]
            room -= prob.points[i]
        else:
            bound += prob.score[i] * room / prob.points[i]
            break
    return bound


def _floor(bound: float) -> int:
    # the integer optimum is at most floor(bound); the epsilon guards against a float sum landing
    # just below a whole number, which would wrongly certify optimality
    return math.floor(bound + 1e-6)


def _prune(prob: _Problem, chosen: set[int]) -> set[int]:
    """Drop non-positive-score items that no chosen item needs (never lowers the total)."""
    chosen = set(chosen)
    for i in sorted(chosen, reverse=True):  # model indices are in dependency order
        if prob.score[i] <= 0 and not any(d in chosen for d in prob.dependents[i]):
            chosen.discard(i)
    return chosen


# ----------------------------------------------------------------------------------------------
# exact


@dataclass
class _ExactResult:
    chosen: set[int] | None
    optimal: bool
    bound: float | None
    status: str


def _cp_sat(prob: _Problem, hint: set[int], time_limit_s: float, seed: int, workers: int) -> _ExactResult:
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
        return _ExactResult(chosen, code == cp_model.OPTIMAL, solver.best_objective_bound, name)
    return _ExactResult(None, False, None, name)


# ----------------------------------------------------------------------------------------------
# entry point


def _normalise_scores(
    items: Sequence[BacklogItem], scores: Mapping[str, float] | Sequence[ItemScore] | None
) -> dict[str, ItemScore]:
    if scores is None:
        from tools.planning.scoring import score_items  # local: scoring is optional for callers

        return {s.gid: s for s in score_items(items)}
    if isinstance(scores, Mapping):
        return {g: ItemScore(gid=g, score=float(v), explanation="given") for g, v in scores.items()}
    return {s.gid: s for s in scores}


def select(
    items: Sequence[BacklogItem],
    capacity: float,
    *,
    scores: Mapping[str, float] | Sequence[ItemScore] | None = None,
    done_gids: Collection[str] = (),
    exclude_blocked: bool = True,
    time_limit_s: float = 2.0,
    exact_size_limit: int = DEFAULT_EXACT_SIZE_LIMIT,
    seed: int = 0,
    workers: int = 1,
) -> Selection:
    """Choose the sprint scope. ``scores`` default to the default formula of tools.planning.scoring;
    ``done_gids`` are finished tasks outside ``items`` that prerequisites may point to.
    Items in ``items`` that are completed (or have status Done) count as finished prerequisites.

    ``time_limit_s`` is CP-SAT's *deterministic* time budget (its work units are close to seconds;
    about 2x wall on a busy 2-core machine; the wall-clock safety cap is ``2 * time_limit_s + 1``):
    a deterministic budget is what keeps a time-limited answer identical run to run."""
    gids = [it.gid for it in items]
    if len(set(gids)) != len(gids):
        raise ValueError("duplicate gids in backlog items")
    if not math.isfinite(capacity):
        raise ValueError("capacity must be a finite number")
    capacity = max(float(capacity), 0.0)
    by_gid = {it.gid: it for it in items}
    score_of = _normalise_scores(items, scores)
    done = {it.gid for it in items if it.is_done} | set(done_gids)
    candidates, excluded, cycles, graph = _exclusions(items, score_of, done, exclude_blocked)
    notes: list[str] = []

    cand_points = [float(by_gid[g].points or 0.0) for g in candidates]
    pscale = point_scale([*cand_points, capacity])
    ipoints = {g: round(p * pscale) for g, p in zip(candidates, cand_points, strict=True)}
    icap = math.floor(capacity * pscale + 1e-9)
    qscores, sscale = quantize_scores([score_of[g].score for g in candidates])
    iscore = dict(zip(candidates, qscores, strict=True))
    cand_set = set(candidates)

    # presolve 1: the item with all its unfinished prerequisites must fit in the capacity
    over: dict[str, float] = {}
    for g in candidates:
        stack, seen, need = [g], {g}, 0
        while stack and need <= icap:
            k = stack.pop()
            need += ipoints[k]
            for p in graph.predecessors(k):
                if p not in seen:
                    seen.add(p)
                    stack.append(p)
        if need > icap:
            over[g] = need / pscale
    # presolve 2: non-positive items nobody left depends on are never worth it (reverse order)
    kept = [g for g in candidates if g not in over]
    keep_set = set(kept)
    useful: set[str] = set()
    for g in reversed(kept):
        if iscore[g] > 0 or any(d in useful for d in graph.successors(g) if d in keep_set):
            useful.add(g)
    model_gids = [g for g in kept if g in useful]
    index = {g: k for k, g in enumerate(model_gids)}
    prob = _Problem(
        gids=model_gids,
        score=[iscore[g] for g in model_gids],
        points=[ipoints[g] for g in model_gids],
        capacity=icap,
        prereqs=[[index[p] for p in graph.predecessors(g) if p in cand_set] for g in model_gids],
    )

    if not model_gids:
        chosen: set[int] = set()
        optimal, bound, solver_name = True, 0.0, "presolve"
    else:
        chosen = _prune(prob, _heuristic(prob))
        bound = _fractional_bound(prob)
        optimal = prob.value(chosen) >= _floor(bound)
        solver_name = "greedy+local-search"
        if optimal:
            notes.append("greedy result meets the fractional upper bound")
        elif len(model_gids) > exact_size_limit:
            notes.append(
                f"{len(model_gids)} items after presolve > exact_size_limit {exact_size_limit}: "
                "heuristic result, gap to the fractional knapsack bound"
            )
        else:
            exact = _cp_sat(prob, chosen, time_limit_s, seed, workers)
            if exact.chosen is None:
                notes.append(f"CP-SAT returned {exact.status}; heuristic result kept")
            else:
                cp_chosen = _prune(prob, exact.chosen)
                if exact.bound is not None:
                    bound = min(bound, exact.bound)
                if prob.value(cp_chosen) >= prob.value(chosen):
                    chosen, solver_name = cp_chosen, "cp-sat"
                optimal = exact.optimal or prob.value(chosen) >= _floor(bound)
                if not exact.optimal:
                    notes.append(f"CP-SAT stopped at its time limit ({exact.status}); gap to its bound")

    value = prob.value(chosen) if model_gids else 0
    ibound = float(value) if optimal else max(bound, float(value))
    gap = 0.0 if optimal else (ibound - value) / max(abs(ibound), 1e-9)
    chosen_gids = [g for g in model_gids if index[g] in chosen]  # already in dependency order
    return Selection(
        chosen=chosen_gids,
        total_score=sum(score_of[g].score for g in chosen_gids),
        total_points=sum(float(by_gid[g].points or 0.0) for g in chosen_gids),
        capacity=capacity,
        status="optimal" if optimal else "feasible",
        gap=gap,
        bound=ibound / sscale,
        solver=solver_name,
        excluded=excluded,
        over_capacity=over,
        cycles=cycles,
        score_scale=sscale,
        candidates=len(candidates),
        model_items=len(model_gids),
        notes=notes,
    )
