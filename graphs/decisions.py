"""Strict validation of a human's answer to the approval gate.

The resume value follows HumanInTheLoopMiddleware: `{"decisions": [...], "decided_by": ..., "digest":
...}` with one decision per action request, in order (or a single approve/reject meaning "all").
Anything else is refused as a whole: wrong count, unknown type, a digest that doesn't match what
was shown, or an edit the policy would deny. A refused answer never applies anything.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agents.proposal import Decision, DecisionType, Proposal
from graphs.state import Verdict
from tools.errors import UserError

EDITABLE_ARGS = {"target", "params"}


class InvalidDecision(UserError, ValueError):
    pass


class ResumeValue(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decisions: list[dict[str, Any]] = Field(min_length=1)
    decided_by: str = Field(min_length=1, max_length=200)
    digest: str = Field(min_length=1)


@dataclass
class AcceptedDecisions:
    by_index: dict[int, Decision]
    decided_by: str
    proposal: Proposal  # with edited actions substituted
    verdicts: list[Verdict]  # re-evaluated when anything was edited


def _parse_decision(raw: dict[str, Any], position: int) -> Decision:
    try:
        decision = Decision.model_validate(raw)
    except ValidationError as err:
        first = err.errors()[0]
        raise InvalidDecision(f"decision {position + 1}: {first['msg']} ({raw.get('type')!r})") from None
    unknown = set(raw) - {"type", "edited_action", "message"}
    if unknown:
        raise InvalidDecision(f"decision {position + 1}: unexpected keys {sorted(unknown)}")
    if decision.type == DecisionType.EDIT and decision.edited_action is None:
        raise InvalidDecision(f"decision {position + 1}: an edit needs edited_action")
    if decision.type != DecisionType.EDIT and decision.edited_action is not None:
        raise InvalidDecision(f"decision {position + 1}: edited_action is only allowed with type 'edit'")
    return decision


def _resume_value(raw: Any, digest: str) -> ResumeValue:
    if not isinstance(raw, dict):
        raise InvalidDecision(f"the resume value must be an object with decisions, got {type(raw).__name__}")
    try:
        value = ResumeValue.model_validate(raw)
    except ValidationError as err:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in err.errors())
        raise InvalidDecision(f"malformed resume value: {problems}") from None
    if not hmac.compare_digest(value.digest, digest):
        raise InvalidDecision("digest mismatch: the decision was made on a different version of the proposal")
    return value


def early_refusal(raw: Any, digest: str) -> str | None:
    """The refusal of an answer that is malformed or made on another version of the proposal, which
    needs neither the run's state nor Asana: the runner answers it without resuming the graph
    (issue 23: a refused decision costs one checkpoint read and one audit row). The gate checks the
    same again, and everything else (counts, edits, policy), on every answer it gets."""
    try:
        _resume_value(raw, digest)
    except InvalidDecision as err:
        return str(err)
    return None


def validate_resume(
    raw: Any,
    *,
    proposal: Proposal,
    verdicts: list[Verdict],
    digest: str,
    reevaluate: Callable[[Proposal], tuple[Proposal, list[Verdict]]],
) -> AcceptedDecisions:
    value = _resume_value(raw, digest)

    requests = [v.index for v in verdicts if v.approval_class == "needs_approval"]
    decisions = [_parse_decision(d, i) for i, d in enumerate(value.decisions)]
    if len(decisions) == 1 and len(requests) > 1:
        if decisions[0].type == DecisionType.EDIT:
            raise InvalidDecision("a single edit cannot apply to several actions")
        decisions = decisions * len(requests)
    if len(decisions) != len(requests):
        raise InvalidDecision(
            f"expected {len(requests)} decisions (one per action request), got {len(decisions)}"
        )

    by_index = dict(zip(requests, decisions, strict=True))
    actions = list(proposal.actions)
    edited: list[int] = []
    for index, decision in by_index.items():
        if decision.type != DecisionType.EDIT:
            continue
        assert decision.edited_action is not None
        original = actions[index]
        if decision.edited_action.name != original.kind.value:
            raise InvalidDecision(
                f"edit of action #{index + 1}: the kind cannot change ({original.kind.value} → "
                f"{decision.edited_action.name})"
            )
        args = decision.edited_action.args
        unknown = set(args) - EDITABLE_ARGS
        if unknown:
            raise InvalidDecision(
                f"edit of action #{index + 1}: only target and params can be edited, not {sorted(unknown)}"
            )
        if "params" in args and not isinstance(args["params"], dict):
            raise InvalidDecision(f"edit of action #{index + 1}: params must be an object")
        if "target" in args and args["target"] is not None and not isinstance(args["target"], str):
            raise InvalidDecision(f"edit of action #{index + 1}: target must be a gid string")
        actions[index] = original.model_copy(
            update={
                "target": args.get("target", original.target),
                "params": args.get("params", original.params),
                "approval_class": None,
                "policy_note": None,
            }
        )
        edited.append(index)

    if not edited:
        return AcceptedDecisions(by_index, value.decided_by, proposal, verdicts)
    new_proposal, new_verdicts = reevaluate(proposal.model_copy(update={"actions": actions}))
    for old, new in zip(verdicts, new_verdicts, strict=True):
        if new.approval_class == "denied" and old.approval_class != "denied":
            cause = "edit" if old.index in edited else f"edit affecting action #{old.index + 1}"
            raise InvalidDecision(f"{cause} refused by policy: {new.note}")
    return AcceptedDecisions(by_index, value.decided_by, new_proposal, new_verdicts)
