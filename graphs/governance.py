"""The one governance path every proposal takes: policy → publish → gate → apply → report.

Wired here once and added to both the supervisor graph and the chat graph, so a rule about
classifying, publishing, approving or applying lives in one node and holds on every surface.
The nodes join the parent graph (not a compiled subgraph) on purpose: the gate's interrupt and the
checkpoint then belong to the parent thread, which is what every approval surface resumes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from langgraph.graph import StateGraph

from graphs.apply import apply_node
from graphs.gate import gate_node
from graphs.policy import policy_node
from graphs.publish import publish_node
from graphs.report import report_node

ENTRY = "policy"
NODES = ("policy", "publish", "gate", "apply", "report")


def _same(node: Callable[..., Any]) -> Callable[..., Any]:
    return node


def add_governance(
    graph: StateGraph[Any, Any, Any, Any],
    *,
    then: str,
    gate: Callable[..., Any] = gate_node,
    wrap: Callable[[Callable[..., Any]], Callable[..., Any]] = _same,
) -> str:
    """Add the governance nodes to `graph`, ending in `then`; returns the entry node's name.

    `gate` replaces the approval gate (the chat's adds who-may-decide checks around the same
    answer validation); `wrap` adapts the other nodes (the chat wraps them to supply a RunContext
    under `langgraph dev`).
    """
    graph.add_node("policy", wrap(policy_node))
    graph.add_node("publish", wrap(publish_node))
    graph.add_node("gate", gate, destinations=("gate", "apply"))
    graph.add_node("apply", wrap(apply_node))
    graph.add_node("report", wrap(report_node))
    graph.add_edge("policy", "publish")
    graph.add_edge("publish", "gate")
    graph.add_edge("apply", "report")
    graph.add_edge("report", then)
    return ENTRY
