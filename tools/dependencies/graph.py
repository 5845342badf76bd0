"""The dependency graph: an edge prerequisite → dependent for every Asana dependency link.

Asana stores each link on both ends (`dependencies` on the dependent, `dependents` on the
prerequisite); either side may be missing from a partial read, so both are merged.
"""

from __future__ import annotations

from collections.abc import Iterable

import networkx as nx

from tools.dependencies.models import TaskNode


def build_graph(nodes: Iterable[TaskNode], dependents: dict[str, Iterable[str]] | None = None) -> nx.DiGraph:
    """Graph over `nodes`; prerequisites not among them are added as unknown (`known=False`) nodes."""
    g = nx.DiGraph()
    for n in nodes:
        g.add_node(n.gid, task=n)
    for n in list(g.nodes(data="task")):
        gid, task = n
        for pre in task.depends_on:
            _ensure(g, pre)
            if pre != gid:
                g.add_edge(pre, gid)
    for pre, deps in (dependents or {}).items():
        _ensure(g, pre)
        for dep in deps:
            _ensure(g, dep)
            if pre != dep:
                g.add_edge(pre, dep)
    return g


def _ensure(g: nx.DiGraph, gid: str) -> None:
    if gid not in g:
        g.add_node(gid, task=TaskNode(gid=gid, known=False))


def task_of(g: nx.DiGraph, gid: str) -> TaskNode:
    node: TaskNode = g.nodes[gid]["task"]
    return node


def find_cycles(g: nx.DiGraph, limit: int = 50) -> list[list[str]]:
    """One cycle per strongly connected component with more than one node (bounded, never hangs).

    Enumerating every simple cycle is exponential; a team needs to see each knot once to cut it.
    """
    cycles: list[list[str]] = []
    for comp in nx.strongly_connected_components(g):
        if len(comp) < 2:
            continue
        sub = g.subgraph(comp)
        edges = nx.find_cycle(sub, source=min(comp))
        cycles.append([u for u, _ in edges])
        if len(cycles) >= limit:
            break
    cycles.sort(key=lambda c: (len(c), c))
    return cycles


def nodes_in_cycles(g: nx.DiGraph) -> set[str]:
    out: set[str] = set()
    for comp in nx.strongly_connected_components(g):
        if len(comp) > 1:
            out |= comp
    return out
