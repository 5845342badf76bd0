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
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import networkx as nx

from tools.dependencies.calendar import from_index, to_index, to_index_finish
from tools.dependencies.durations import DurationModel
from tools.dependencies.graph import find_cycles
from tools.dependencies.models import Affected, CascadeResult, Slip, TaskNode

# A finish earlier than any real one: "no prerequisite holds this task up".
_NONE = -(1 << 62)


class _Facts:
    """A task's duration and planned dates as working-day indices (date conversions memoised:
    a portfolio has far fewer distinct dates than tasks)."""

    def __init__(self, durations: DurationModel, today: int) -> None:
        self.duration = durations.duration
        self.today = today
        self._start: dict[date, int] = {}
        self._finish: dict[date, int] = {}

    def of(self, task: TaskNode) -> tuple[int, str, int | None, int]:
        """(duration, its source, planned finish or None, own start)."""
        dur, source = self.duration(task)
        start = None
        if task.start_on is not None:
            start = self._start.get(task.start_on)
            if start is None:
                start = self._start[task.start_on] = to_index(task.start_on)
        if task.due_on is not None:
            planned = self._finish.get(task.due_on)
            if planned is None:
                planned = self._finish[task.due_on] = to_index_finish(task.due_on)
            return dur, source, planned, planned - dur + 1 if start is None else start
        if start is not None:
            return dur, source, start + dur - 1, start
        return dur, source, None, self.today


def propagate(
    g: nx.DiGraph,
    slips: Iterable[Slip],
    *,
    today: date,
    durations: DurationModel | None = None,
    report_cycles: bool = True,
) -> CascadeResult:
    """Every task transitively held up by `slips`, with its new earliest finish and slack."""
    facts = _Facts(durations or DurationModel(), to_index(today))
    # networkx's dicts directly: the public views cost a wrapper per lookup, and with every
    # source slipping these loops run once per task and link of the whole portfolio.
    attrs, pred, succ = g._node, g._pred, g._succ
    roots: dict[str, tuple[int, int]] = {}  # slipped gid → (new finish, baseline finish)
    for s in slips:
        if s.gid not in attrs:
            raise KeyError(f"task {s.gid} is not in the dependency graph")
        dur, _, planned, own = facts.of(attrs[s.gid]["task"])
        base = planned if planned is not None else own + dur - 1
        new = to_index_finish(s.new_finish) if s.new_finish is not None else base + max(0, s.days or 0)
        if s.gid in roots:
            new = max(new, roots[s.gid][0])
        roots[s.gid] = (new, base)

    # Breadth-first from all slipped tasks at once: each task's depth, and its in-degree among the
    # affected (every affected → affected link is seen exactly once, from its prerequisite).
    depth = dict.fromkeys(roots, 0)
    indeg = dict.fromkeys(roots, 0)
    queue = list(roots)
    for u in queue:  # the list grows while it is walked: a FIFO queue without pops
        du = depth[u] + 1
        for v in succ[u]:
            if v in indeg:
                indeg[v] += 1
            else:
                t = attrs[v]["task"]
                if t.known and not t.completed:  # completed and unknown tasks hold nothing up
                    depth[v] = du
                    indeg[v] = 1
                    queue.append(v)

    # Kahn's order (first ready by depth, then gid); a task's finishes are final when it is reached.
    order = sorted((n for n, d in indeg.items() if d == 0), key=lambda n: (depth[n], n))
    new_fin: dict[str, int] = {}
    base_fin: dict[str, int] = {}
    outside: dict[str, int | None] = {}  # unaffected prerequisite → planned finish, if it holds up
    days: dict[int, date] = {}
    affected: list[Affected] = []
    for u in order:  # grows as tasks become ready
        t = attrs[u]["task"]
        dur, source, planned, own = facts.of(t)
        via: str | None = None
        root = roots.get(u)
        if root is not None:
            ef, efb = root
            es = min(own, ef - dur + 1)
        else:
            latest = latest_base = _NONE
            for p in pred[u]:
                f = new_fin.get(p)
                if f is None:  # not affected: its plan holds this task up, if it is open
                    if p in outside:
                        f = outside[p]
                    else:
                        pt = attrs[p]["task"]
                        f = outside[p] = facts.of(pt)[2] if pt.known and not pt.completed else None
                    if f is None:
                        continue
                    fb = f
                else:
                    fb = base_fin[p]
                # Ties go to the smallest gid so "via" is deterministic.
                if f > latest or (f == latest and via is not None and p < via):
                    latest, via = f, p
                if fb > latest_base:
                    latest_base = fb
            es = max(own, latest + 1)
            ef = es + dur - 1
            efb = max(own, latest_base + 1) + dur - 1
            if planned is not None:
                ef = max(ef, planned)
                efb = max(efb, planned)
        new_fin[u] = ef
        base_fin[u] = efb
        for i in (es, ef) if planned is None else (es, ef, planned):
            if i not in days:
                days[i] = from_index(i)
        due = t.due_on
        affected.append(
            Affected(
                gid=u,
                depth=depth[u],
                via=via,
                planned_finish=None if planned is None else days[planned],
                earliest_start=days[es],
                earliest_finish=days[ef],
                due_on=due,
                duration_days=dur,
                duration_source=source,
                # planned is due_on's index whenever there is a due date
                slack_days=None if due is None or planned is None else planned - ef,
                delay_days=max(0, ef - efb),
            )
        )
        for v in succ[u]:
            n = indeg.get(v)
            if n is not None:
                indeg[v] = n - 1
                if n == 1:
                    order.append(v)
    stuck = sorted(n for n in indeg if n not in new_fin) if len(order) < len(indeg) else []
    cycles = find_cycles(g.subgraph(stuck)) if (stuck and report_cycles) else []
    return CascadeResult(slipped=list(roots), affected=affected, cycles=cycles, skipped_in_cycle=stuck)
