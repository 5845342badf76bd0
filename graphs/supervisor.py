"""The supervisor graph: trigger → route → specialist → policy → publish → gate → apply → report.

Routing is explicit: every trigger (CLI, event, schedule, eval, a chat tool call) names the
agent; a missing or unknown name ends the run with an error report. Free text is the chat graph's
job (graphs/chat), which turns it into a named specialist call. The graph is returned uncompiled;
the composition root compiles it with its checkpointer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Literal

from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime
from langgraph.types import Command
from pydantic import ValidationError

from agents.proposal import Proposal
from graphs.context import RunContext, current_thread_id
from graphs.governance import add_governance
from graphs.project_kind import check_project_kind
from graphs.registry import Specialist, SpecialistRegistry
from graphs.state import RunState, request_of
from tools.asana.errors import AsanaError, is_transient
from tools.errors import SprintpilotError, UserError
from tools.feedback.suppression import apply_suppression

log = logging.getLogger(__name__)
# A specialist's proposal goes to the policy; a failure straight to the report.
SpecialistNext = Literal["policy", "report"]


def _node_name(spec_name: str) -> str:
    return f"agent_{spec_name}"


def _make_route(registry: SpecialistRegistry) -> Callable[..., Command[Any]]:
    def route(state: RunState, runtime: Runtime[RunContext]) -> Command[Any]:
        ctx = runtime.context
        thread_id = current_thread_id()
        try:
            request = request_of(state)
        except ValidationError as err:
            return Command(goto="report", update={"error": f"invalid request: {err.errors()[0]['msg']}"})
        name = request.agent
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


def failure_text(err: BaseException) -> str:
    """What went wrong, for people: Asana's own message for a 4xx, without the request line; each
    invalid argument as `name: problem`, without pydantic's model name and documentation link."""
    if isinstance(err, AsanaError) and 400 <= err.status < 500:
        return err.message
    if isinstance(err, ValidationError):
        return "; ".join(
            f"{'.'.join(str(x) for x in e['loc'])}: {str(e['msg']).removeprefix('Value error, ')}"
            if e["loc"]
            else str(e["msg"])
            for e in err.errors()
        )
    return str(err)


def _make_specialist_node(spec: Specialist) -> Callable[..., Command[SpecialistNext]]:
    def run_specialist(state: RunState, runtime: Runtime[RunContext]) -> Command[SpecialistNext]:
        request = request_of(state)
        try:
            check_project_kind(spec, dict(request.args), runtime.context)
            proposal = spec.run(dict(request.args), runtime.context)
            if not isinstance(proposal, Proposal):
                proposal = Proposal.model_validate(proposal)
            ctx = runtime.context  # kinds people keep rejecting are held back (tools/feedback/suppression.py)
            proposal = apply_suppression(proposal, ctx.feedback, trigger=request.trigger, now=ctx.now())
        except Exception as err:  # noqa: BLE001 - any specialist failure ends the run with a report
            if is_transient(err):
                # Not an outcome: the run stops here (checkpointed before this node) and the
                # caller's retry continues it; a report would make e.g. the day's stand-up "done".
                raise
            if isinstance(err, SprintpilotError | LookupError | ValueError):
                # A bad project name or an Asana 404 is the user's to fix, not a crash to log.
                log.info("specialist %s refused the request: %s", spec.name, err)
            else:
                log.exception("specialist %s failed", spec.name)
            # The user's to fix: the reason alone; a crash: which agent failed.
            refused = isinstance(err, UserError | LookupError | ValueError) or (
                isinstance(err, AsanaError) and 400 <= err.status < 500
            )
            error = failure_text(err) if refused else f"agent {spec.name!r} failed: {failure_text(err)}"
            return Command(goto="report", update={"error": error})
        return Command(goto="policy", update={"proposal": proposal.model_dump(mode="json")})

    return run_specialist


def build_supervisor_graph(
    registry: SpecialistRegistry,
) -> StateGraph[RunState, RunContext, RunState, RunState]:
    graph: StateGraph[RunState, RunContext, RunState, RunState] = StateGraph(
        RunState, context_schema=RunContext
    )
    specialist_nodes = [_node_name(s.name) for s in registry]
    graph.add_node("route", _make_route(registry), destinations=(*specialist_nodes, "report"))
    for spec in registry:
        graph.add_node(_node_name(spec.name), _make_specialist_node(spec), destinations=("policy", "report"))
    add_governance(graph, then=END)
    graph.add_edge(START, "route")
    return graph
