"""The delay cascade as it was before the single-pass rewrite, kept as a reference.

`evals.bench_cascade` times it beside `tools.dependencies.cascade.propagate` in the same run, and
tests/dependencies/test_cascade_equivalence.py checks that both give identical results on random
graphs. Same rules (see tools.dependencies.cascade); the structure is the plain one: a breadth-first
walk for the affected set, Kahn's ordering of it, then one forward pass with the slip and one
without (the baseline), each over lazily cached per-task facts.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from datetime import date

import networkx as nx

from tools.dependencies.calendar import from_index, to_index, to_index_finish
from tools.dependencies.durations import DurationModel
from tools.dependencies.graph import find_cycles
from tools.dependencies.models import Affected, CascadeResult, Slip, TaskNode


class _Plan:
    """Per-task durations and planned dates as working-day indices (computed once, cached)."""

    def __init__(self, g: nx.DiGraph, durations: DurationModel, today: int) -> None:
        self.g = g
        self.durations = durations
        self.today = today
        self._dur: dict[str, tuple[int, str]] = {}
        self._planned: dict[str, int | None] = {}
        self._holds: dict[str, bool] = {}
        self._own: dict[str, int] = {}

    def task(self, gid: str) -> TaskNode:
        node: TaskNode = self.g.nodes[gid]["task"]
        return node

    def duration(self, gid: str) -> tuple[int, str]:
        d = self._dur.get(gid)
        if d is None:
            d = self._dur[gid] = self.durations.duration(self.task(gid))
        return d

    def planned_finish(self, gid: str) -> int | None:
        if gid in self._planned:
            return self._planned[gid]
        t = self.task(gid)
        value: int | None = None
        if t.due_on is not None:
            value = to_index_finish(t.due_on)
        elif t.start_on is not None:
            value = to_index(t.start_on) + self.duration(gid)[0] - 1
        self._planned[gid] = value
        return value

    def own_start(self, gid: str) -> int:
        v = self._own.get(gid)
        if v is None:
            v = self._own[gid] = self._own_start(gid)
        return v

    def _own_start(self, gid: str) -> int:
        t = self.task(gid)
        if t.start_on is not None:
            return to_index(t.start_on)
        if t.due_on is not None:
            return to_index_finish(t.due_on) - self.duration(gid)[0] + 1
        return self.today

    def holds_up(self, gid: str) -> bool:
        v = self._holds.get(gid)
        if v is None:
            t = self.task(gid)
            v = self._holds[gid] = t.known and not t.completed
        return v


def _reach(succ: dict[str, dict[str, object]], plan: _Plan, roots: Iterable[str]) -> dict[str, int]:
    """Open transitive dependents of `roots` with their BFS depth (roots at depth 0)."""
    depth = {r: 0 for r in roots}
    queue = deque(depth)
    while queue:
        u = queue.popleft()
        du = depth[u] + 1
        for v in succ[u]:
            if v not in depth and plan.holds_up(v):
                depth[v] = du
                queue.append(v)
    return depth


def _topological(
    pred: dict[str, dict[str, object]], succ: dict[str, dict[str, object]], members: dict[str, int]
) -> tuple[list[str], list[str]]:
    """Kahn's order of the subgraph on `members`; members on or behind a cycle come back separately."""
    indeg = {n: sum(1 for p in pred[n] if p in members) for n in members}
    queue = deque(sorted((n for n, d in indeg.items() if d == 0), key=lambda n: (members[n], n)))
    order: list[str] = []
    while queue:
        u = queue.popleft()
        order.append(u)
        for v in succ[u]:
            if v in indeg:
                indeg[v] -= 1
                if indeg[v] == 0:
                    queue.append(v)
    seen = set(order)
    return order, sorted(n for n in members if n not in seen)


def _forward(
    pred: dict[str, dict[str, object]], plan: _Plan, order: list[str], roots: dict[str, int]
) -> tuple[dict[str, int], dict[str, int], dict[str, str | None]]:
    """Earliest (start, finish) per task in `order`; roots keep the finish given for them."""
    finish: dict[str, int] = {}
    start: dict[str, int] = {}
    via: dict[str, str | None] = {}
    planned_of = plan.planned_finish
    holds = plan.holds_up
    for gid in order:
        dur = plan.duration(gid)[0]
        if gid in roots:
            finish[gid] = roots[gid]
            start[gid] = min(plan.own_start(gid), roots[gid] - dur + 1)
            via[gid] = None
            continue
        latest: int | None = None
        latest_pre: str | None = None
        for p in pred[gid]:
            f = finish.get(p)
            if f is None:
                if not holds(p):
                    continue
                f = planned_of(p)
                if f is None:
                    continue
            # Ties go to the smallest gid so "via" is deterministic.
            if latest is None or f > latest or (f == latest and latest_pre is not None and p < latest_pre):
                latest, latest_pre = f, p
        es = plan.own_start(gid)
        if latest is not None and latest + 1 > es:
            es = latest + 1
        ef = es + dur - 1
        planned = planned_of(gid)
        if planned is not None and planned > ef:
            ef = planned
        start[gid], finish[gid], via[gid] = es, ef, latest_pre
    return start, finish, via


def reference_propagate(
    g: nx.DiGraph,
    slips: Iterable[Slip],
    *,
    today: date,
    durations: DurationModel | None = None,
    report_cycles: bool = True,
) -> CascadeResult:
    """`tools.dependencies.cascade.propagate` as it was before the single-pass rewrite."""
    plan = _Plan(g, durations or DurationModel(), to_index(today))
    new_roots: dict[str, int] = {}
    base_roots: dict[str, int] = {}
    for s in slips:
        if s.gid not in g:
            raise KeyError(f"task {s.gid} is not in the dependency graph")
        dur = plan.duration(s.gid)[0]
        planned = plan.planned_finish(s.gid)
        base = planned if planned is not None else plan.own_start(s.gid) + dur - 1
        new = to_index_finish(s.new_finish) if s.new_finish is not None else base + max(0, s.days or 0)
        base_roots[s.gid] = base
        new_roots[s.gid] = max(new, new_roots.get(s.gid, new))
    # networkx's adjacency dicts directly: the public views cost a wrapper per lookup.
    pred, succ = g._pred, g._succ
    depth = _reach(succ, plan, new_roots)
    order, stuck = _topological(pred, succ, depth)
    _, base_finish, _ = _forward(pred, plan, order, base_roots)
    start, finish, via = _forward(pred, plan, order, new_roots)
    affected: list[Affected] = []
    for gid in order:
        t = plan.task(gid)
        dur, source = plan.duration(gid)
        planned = plan.planned_finish(gid)
        slack = None if t.due_on is None else to_index_finish(t.due_on) - finish[gid]
        affected.append(
            Affected(
                gid=gid,
                depth=depth[gid],
                via=via[gid],
                planned_finish=None if planned is None else from_index(planned),
                earliest_start=from_index(start[gid]),
                earliest_finish=from_index(finish[gid]),
                due_on=t.due_on,
                duration_days=dur,
                duration_source=source,
                slack_days=slack,
                delay_days=max(0, finish[gid] - base_finish[gid]),
            )
        )
    cycles = find_cycles(g.subgraph(stuck)) if (stuck and report_cycles) else []
    return CascadeResult(slipped=list(new_roots), affected=affected, cycles=cycles, skipped_in_cycle=stuck)
