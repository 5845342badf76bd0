"""The supervisor graph's state and the typed records that travel in it.

Everything stored in the state is plain JSON (dicts, lists, strings, numbers): the Proposal is
kept as its `model_dump(mode="json")`, results as dicts. That keeps checkpoints readable by the
Postgres/SQLite savers under strict msgpack, and lets a new process resume a thread without
importing any custom type registry.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypedDict

from pydantic import BaseModel, Field

from agents.proposal import ApprovalClass, Decision, Proposal
from graphs.ports import LedgerStatus


def merge_dicts(left: dict[str, Any] | None, right: dict[str, Any] | None) -> dict[str, Any]:
    """Reducer: later writes win per key (results arrive from publish, apply and report)."""
    merged = dict(left or {})
    merged.update(right or {})
    return merged


def append_list(left: list[Any] | None, right: list[Any] | None) -> list[Any]:
    return [*(left or []), *(right or [])]


class RunRequest(BaseModel):
    """What started the run: the agent to run (named by the CLI, an event, a schedule, an eval or a
    chat tool call) and its args. A request naming no agent ends with an error report."""

    agent: str | None = None
    args: dict[str, Any] = Field(default_factory=dict)
    trigger: str = "cli"  # cli | event | schedule | chat | eval
    trigger_info: dict[str, Any] = Field(default_factory=dict)


class Verdict(BaseModel):
    """The policy's answer for one action (by index in the proposal's action list)."""

    index: int
    approval_class: ApprovalClass
    note: str
    # An auto action that consumes a ref made by an action awaiting approval runs after the gate.
    deferred: bool = False
    depends_on: list[int] = Field(default_factory=list)


class ActionResult(BaseModel):
    index: int
    kind: str
    status: LedgerStatus
    target: str | None = None
    gid: str | None = None
    message: str = ""
    phase: Literal["publish", "apply", "report"] = "apply"
    conflicts: list[dict[str, Any]] = Field(default_factory=list)
    recovered: bool = False  # found in Asana by the crash-window probe instead of re-written


class RunState(TypedDict, total=False):
    request: dict[str, Any]
    agent: str | None
    proposal: dict[str, Any] | None
    verdicts: list[dict[str, Any]]
    results: Annotated[dict[str, dict[str, Any]], merge_dicts]
    approval_task_gid: str | None
    decisions: dict[str, dict[str, Any]]  # str(action index) -> {"type", "action"?, "message"?}
    decided_by: str | None
    invalid_decisions: Annotated[list[str], append_list]
    report: dict[str, Any] | None
    error: str | None


def request_of(state: RunState) -> RunRequest:
    """The run's request (raises pydantic's ValidationError when a caller sent a malformed one)."""
    return RunRequest.model_validate(state.get("request") or {})


def decisions_of(state: RunState) -> dict[int, Decision]:
    """The accepted decisions by action index (empty until the gate accepted an answer)."""
    return {int(k): Decision.model_validate(v) for k, v in (state.get("decisions") or {}).items()}


def proposal_of(state: RunState) -> Proposal:
    raw = state.get("proposal")
    if raw is None:
        raise LookupError("the run has no proposal yet")
    return Proposal.model_validate(raw)


def verdicts_of(state: RunState) -> list[Verdict]:
    return [Verdict.model_validate(v) for v in state.get("verdicts") or []]


def results_of(state: RunState) -> dict[int, ActionResult]:
    return {int(k): ActionResult.model_validate(v) for k, v in (state.get("results") or {}).items()}
