"""Critical path: the chain of open tasks with the longest total duration (working days).

Classic CPM longest path over the acyclic part of the graph; completed and unknown tasks take no
time, and tasks on a cycle are left out (the cycle is reported separately).
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx

from tools.dependencies.durations import DurationModel
from tools.dependencies.graph import nodes_in_cycles
from tools.dependencies.models import TaskNode


@dataclass(frozen=True)
class CriticalPath:
    gids: list[str]
    working_days: int


def critical_path(g: nx.DiGraph, durations: DurationModel | None = None) -> CriticalPath:
    model = durations or DurationModel()
    open_nodes = [
        n for n, t in g.nodes(data="task") if isinstance(t, TaskNode) and t.known and not t.completed
    ]
    sub = g.subgraph(set(open_nodes) - nodes_in_cycles(g))
    best: dict[str, int] = {}
    prev: dict[str, str | None] = {}
    for gid in nx.lexicographical_topological_sort(sub):
        own = model.duration(sub.nodes[gid]["task"])[0]
        top, arg = 0, None
        for p in sub.predecessors(gid):
            if best[p] > top or (best[p] == top and arg is not None and p < arg):
                top, arg = best[p], p
        best[gid], prev[gid] = top + own, arg
    if not best:
        return CriticalPath(gids=[], working_days=0)
    end = min(best, key=lambda n: (-best[n], n))
    path: list[str] = []
    cur: str | None = end
    while cur is not None:
        path.append(cur)
        cur = prev[cur]
    return CriticalPath(gids=path[::-1], working_days=best[end])
