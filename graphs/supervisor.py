"""The supervisor graph: trigger → route → specialist → policy → publish → gate → apply → report.

Routing is explicit (agent name from CLI/event/eval) or a simple keyword match for offline chat.
`intent_router` is the seam for a model-driven (tool-calling) supervisor later: any callable
`(intent, registry) -> agent name | None`. The graph is returned uncompiled; the composition root
compiles it with its checkpointer.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime
from langgraph.types import Command
from pydantic import ValidationError

from agents.proposal import Proposal
from graphs.apply import apply_node
from graphs.context import RunContext, current_thread_id
from graphs.gate import gate_node
from graphs.policy import policy_node
from graphs.publish import publish_node
from graphs.registry import Specialist, SpecialistRegistry
from graphs.report import report_node
from graphs.state import RunRequest, RunState

log = logging.getLogger(__name__)

IntentRouter = Callable[[str, SpecialistRegistry], str | None]
_WORD = re.compile(r"[a-z][a-z\-]+")


def keyword_router(intent: str, registry: SpecialistRegistry) -> str | None:
    """The specialist whose name/keywords best match the text; None when none or a tie."""
    words = set(_WORD.findall(intent.lower()))
    scores: dict[str, int] = {}
    for spec in registry:
        vocab = {spec.name.lower(), *(k.lower() for k in spec.keywords)}
        score = sum(1 for w in words if w in vocab or any(w.startswith(v) for v in vocab if len(v) > 3))
        if score:
            scores[spec.name] = score
    if not scores:
        return None
    best = max(scores.values())
    winners = [n for n, s in scores.items() if s == best]
    return winners[0] if len(winners) == 1 else None


def _node_name(spec_name: str) -> str:
    return f"agent_{spec_name}"


def _make_route(registry: SpecialistRegistry, intent_router: IntentRouter) -> Callable[..., Command[Any]]:
    def route(state: RunState, runtime: Runtime[RunContext]) -> Command[Any]:
        ctx = runtime.context
        thread_id = current_thread_id()
        try:
            request = RunRequest.model_validate(state.get("request") or {})
        except ValidationError as err:
            return Command(goto="report", update={"error": f"invalid request: {err.errors()[0]['msg']}"})
        name = request.agent
        if name is None and request.intent:
            name = intent_router(request.intent, registry)
        ctx.repo.record_run(thread_id, name or "unknown", request.trigger, request.model_dump(mode="json"))
        if name is None:
            known = ", ".join(registry.names()) or "none"
            error = (
                f"no agent named and the request matched none; say which agent to run (available: {known})"
            )
            return Command(goto="report", update={"error": error, "agent": None})
        if name not in registry:
            known = ", ".join(registry.names()) or "none registered"
            return Command(
                goto="report", update={"error": f"unknown agent {name!r}; available: {known}", "agent": name}
            )
        ctx.repo.set_run_status(thread_id, "running")
        return Command(goto=_node_name(name), update={"agent": name})

    return route


def _make_specialist_node(spec: Specialist) -> Callable[..., Command[Any]]:
    def run_specialist(state: RunState, runtime: Runtime[RunContext]) -> Command[Any]:
        request = RunRequest.model_validate(state.get("request") or {})
        try:
            proposal = spec.run(dict(request.args), runtime.context)
            if not isinstance(proposal, Proposal):
                proposal = Proposal.model_validate(proposal)
        except Exception as err:  # noqa: BLE001 - any specialist failure ends the run with a report
            log.exception("specialist %s failed", spec.name)
            return Command(goto="report", update={"error": f"agent {spec.name!r} failed: {err}"})
        return Command(goto="policy", update={"proposal": proposal.model_dump(mode="json")})

    return run_specialist


def build_supervisor_graph(
    registry: SpecialistRegistry, *, intent_router: IntentRouter = keyword_router
) -> StateGraph[RunState, RunContext, RunState, RunState]:
    graph: StateGraph[RunState, RunContext, RunState, RunState] = StateGraph(
        RunState, context_schema=RunContext
    )
    specialist_nodes = [_node_name(s.name) for s in registry]
    graph.add_node("route", _make_route(registry, intent_router), destinations=(*specialist_nodes, "report"))
    for spec in registry:
        graph.add_node(_node_name(spec.name), _make_specialist_node(spec), destinations=("policy", "report"))
    graph.add_node("policy", policy_node)
    graph.add_node("publish", publish_node)
    graph.add_node("gate", gate_node, destinations=("gate", "apply"))
    graph.add_node("apply", apply_node)
    graph.add_node("report", report_node)
    graph.add_edge(START, "route")
    graph.add_edge("policy", "publish")
    graph.add_edge("publish", "gate")
    graph.add_edge("apply", "report")
    graph.add_edge("report", END)
    return graph
