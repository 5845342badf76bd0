"""Delay cascade: push slipped tasks' new finishes through every transitive dependent.

Working days only. For each affected task, in topological order:
    earliest start  = max(own start, latest finish of its prerequisites + 1 working day)
    earliest finish = max(planned finish, earliest start + duration − 1)
where "own start" is `start_on`, else `due_on − duration + 1` when it has a due date, else today;
a prerequisite's finish is its new earliest finish if it is affected, else its planned finish
(`due_on`, or start + duration − 1); completed prerequisites hold nothing up. Slack = working
days from the new earliest finish to the task's own `due_on` (negative = it will be late).
"delay_days" compares with the same schedule without the slip (the baseline), so tasks without
dates still get a meaningful delay.

Every slip goes through one pass, O(tasks + links reached), however many tasks slip: a
breadth-first walk from all slipped tasks at once finds the affected tasks (depth, and in-degree
among them), then Kahn's ordering of them computes each task's new and baseline finish together,
as it leaves the queue. Cycles never hang the pass: Kahn's ordering simply never reaches tasks on
(or behind) a cycle, and they are reported as skipped.

Two implementations of that pass give identical results: on a large graph the array pass
(`cascade_arrays`, numpy, one round per BFS level and Kahn generation) does the per-link work;
on a small graph, or a cascade so deep that its rounds would cost more than they save, the dict
pass below walks task by task.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import date
from typing import Any

import networkx as nx

from tools.dependencies.calendar import from_index, to_index_finish
from tools.dependencies.cascade_arrays import TooDeep, array_pass
from tools.dependencies.cascade_facts import NONE, Fact, Facts
from tools.dependencies.durations import DurationModel
from tools.dependencies.graph import find_cycles
from tools.dependencies.models import Affected, CascadeResult, Slip, TaskNode

# The array pass has fixed costs proportional to the whole graph (an index of every task, arrays
# over them) and per round; it pays off once the cascade reaches a few percent of a large graph.
# Below that the dict pass runs, and stops (for the array pass) as soon as it reaches more.
ARRAY_MIN_TASKS = 5_000
ARRAY_MIN_SHARE = 25  # the cascade reaches more than 1/25 of the graph's tasks


@contextmanager
def _no_collection_pauses() -> Iterator[None]:
    """Defer the cyclic garbage collector for the pass. Everything the pass allocates in bulk stays
    alive (it is the result), so collections triggered by those allocations only re-scan the
    caller's heap (a graph of 100,000 tasks is ~1M objects): a third of the run time there."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def propagate(
    g: nx.DiGraph,
    slips: Iterable[Slip],
    *,
    today: date,
    durations: DurationModel | None = None,
    report_cycles: bool = True,
    method: str = "auto",
) -> CascadeResult:
    """Every task transitively held up by `slips`, with its new earliest finish and slack.

    `method` ("auto", "arrays" or "dicts") picks the implementation; tests run both."""
    facts = Facts(durations or DurationModel(), today)
    # networkx's dicts directly: the public views cost a wrapper per lookup, and with every
    # source slipping these loops run once per task and link of the whole portfolio.
    attrs, pred, succ = g._node, g._pred, g._succ
    roots: dict[str, tuple[int, int]] = {}  # slipped gid → (new finish, baseline finish)
    for s in slips:
        if s.gid not in attrs:
            raise KeyError(f"task {s.gid} is not in the dependency graph")
        dur, _, planned, own, _, _ = facts.of(attrs[s.gid]["task"])
        base = planned if planned is not None else own + dur - 1
        new = to_index_finish(s.new_finish) if s.new_finish is not None else base + max(0, s.days or 0)
        if s.gid in roots:
            new = max(new, roots[s.gid][0])
        roots[s.gid] = (new, base)
    if method not in ("auto", "arrays", "dicts"):
        raise ValueError(f"unknown cascade method {method!r}")
    with _no_collection_pauses():
        affected, stuck = _run(method, attrs, pred, succ, roots, facts)
    cycles = find_cycles(g.subgraph(stuck)) if (stuck and report_cycles) else []
    return CascadeResult(slipped=list(roots), affected=affected, cycles=cycles, skipped_in_cycle=stuck)


def _run(
    method: str,
    attrs: Mapping[str, dict[str, Any]],
    pred: Mapping[str, Mapping[str, Any]],
    succ: Mapping[str, Mapping[str, Any]],
    roots: dict[str, tuple[int, int]],
    facts: Facts,
) -> tuple[list[Affected], list[str]]:
    """The pass `method` names; "auto": the dict pass on a small graph or cascade, else the array
    pass, unless the cascade is too deep for it (then the dict pass after all)."""
    if method == "dicts" or (method == "auto" and len(attrs) < ARRAY_MIN_TASKS):
        return _dict_pass(attrs, pred, succ, roots, facts.of)
    if method == "auto":
        try:
            return _dict_pass(attrs, pred, succ, roots, facts.of, limit=len(attrs) // ARRAY_MIN_SHARE)
        except _Reached:
            pass
    try:
        return array_pass(attrs, pred, succ, roots, facts)
    except TooDeep:
        if method == "arrays":
            raise
    return _dict_pass(attrs, pred, succ, roots, facts.of)


class _Reached(Exception):
    """The dict pass reached more tasks than its limit."""


def _dict_pass(
    attrs: Mapping[str, dict[str, Any]],
    pred: Mapping[str, Mapping[str, Any]],
    succ: Mapping[str, Mapping[str, Any]],
    roots: dict[str, tuple[int, int]],
    of: Callable[[TaskNode], Fact],
    limit: int | None = None,
) -> tuple[list[Affected], list[str]]:
    """(affected tasks in Kahn's order, gids skipped because a cycle holds them), task by task;
    raises _Reached as soon as more than `limit` tasks are affected."""
    # One mutable record per affected task, so each link costs one dict lookup:
    # [affected prerequisites not yet done, depth, latest finish of its done prerequisites,
    #  the one that finishes latest (smallest gid on a tie), latest baseline finish, its facts]
    state: dict[str, list[Any]] = {gid: [0, 0, NONE, None, NONE, of(attrs[gid]["task"])] for gid in roots}

    # Breadth-first from all slipped tasks at once: each task's depth, and its in-degree among the
    # affected (every affected → affected link is seen exactly once, from its prerequisite).
    queue = list(roots)
    for u in queue:  # the list grows while it is walked: a FIFO queue without pops
        du = state[u][1] + 1
        for v in succ[u]:
            rec = state.get(v)
            if rec is not None:
                rec[0] += 1
            else:
                t = attrs[v]["task"]
                if t.known and not t.completed:  # completed and unknown tasks hold nothing up
                    state[v] = [1, du, NONE, None, NONE, of(t)]
                    queue.append(v)
                    if limit is not None and len(queue) > limit:
                        raise _Reached

    # Prerequisites outside the affected set hold a task up by their plan, if they are open: they
    # are folded in first; affected ones push their finishes as they leave Kahn's queue below.
    for v in queue:
        rec = state[v]
        if rec[0] != len(pred[v]) and v not in roots:
            _hold_by_outside(rec, pred[v], state, attrs, of)

    # Kahn's order (first ready by depth, then gid); a task's finishes are final when it is reached,
    # since every affected prerequisite has pushed its own by then.
    order = sorted((n for n, rec in state.items() if rec[0] == 0), key=lambda n: (state[n][1], n))
    days: dict[int, date] = {}
    affected: list[Affected] = []
    for u in order:  # grows as tasks become ready
        rec = state[u]
        dur, source, planned, own, planned_day, due = rec[5]
        root = roots.get(u)
        if root is None:
            via = rec[3]
            latest = rec[2] + 1
            es = own if own > latest else latest
            ef = es + dur - 1
            latest = rec[4] + 1
            efb = (own if own > latest else latest) + dur - 1
            if planned is not None:
                if planned > ef:
                    ef = planned
                if planned > efb:
                    efb = planned
        else:
            via = None
            ef, efb = root
            es = min(own, ef - dur + 1)
        start_day = days.get(es)
        if start_day is None:
            start_day = days[es] = from_index(es)
        finish_day = days.get(ef)
        if finish_day is None:
            finish_day = days[ef] = from_index(ef)
        affected.append(
            Affected(
                gid=u,
                depth=rec[1],
                via=via,
                planned_finish=planned_day,
                earliest_start=start_day,
                earliest_finish=finish_day,
                due_on=due,
                duration_days=dur,
                duration_source=source,
                # planned is due_on's index whenever there is a due date
                slack_days=None if due is None or planned is None else planned - ef,
                delay_days=ef - efb if ef > efb else 0,
            )
        )
        for v in succ[u]:
            w = state.get(v)
            if w is not None:
                # Ties go to the smallest gid so "via" is deterministic.
                if ef > w[2] or (ef == w[2] and u < w[3]):
                    w[2] = ef
                    w[3] = u
                if efb > w[4]:
                    w[4] = efb
                n = w[0] - 1
                w[0] = n
                if n == 0:
                    order.append(v)
    stuck = sorted(n for n, rec in state.items() if rec[0] > 0) if len(order) < len(state) else []
    return affected, stuck


def _hold_by_outside(
    rec: list[Any],
    prerequisites: Iterable[str],
    state: dict[str, list[Any]],
    attrs: Mapping[str, dict[str, Any]],
    of: Callable[[TaskNode], Fact],
) -> None:
    """Fold the planned finishes of a task's open prerequisites outside the affected set into its
    record (both runs, with and without the slip, see the same plan for them)."""
    for p in prerequisites:
        if p in state:
            continue
        pt = attrs[p]["task"]
        if not pt.known or pt.completed:
            continue
        f = of(pt)[2]
        if f is None:
            continue
        # Ties go to the smallest gid so "via" is deterministic.
        if f > rec[2] or (f == rec[2] and p < rec[3]):
            rec[2] = f
            rec[3] = p
        if f > rec[4]:
            rec[4] = f
