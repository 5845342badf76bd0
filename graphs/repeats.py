"""Quiet over time: a run whose inputs did not change writes nothing, and a day's writes stay in budget.

Three rules, applied in the policy node (so every surface — CLI, beat, webhooks, chat — obeys
them) and, for the first, once more by the executor right before the write:

1. **Applied facts are not written again.** Every action gets a fact key: a hash of its kind and
   what it states (`Action.facts` when the agent gives them, else its target and params). A
   report-like write (`ActionSpec.repeat_guarded`: comments, status updates, files, new tasks)
   whose key matches an applied ledger entry is dropped: the second identical triage comment,
   forecast or chart, or a second nudge to one person on one day. Field values and links need no
   such rule; their stale check already finds them up to date.
2. **A repeat of a waiting proposal adds nothing.** When a proposal about the same subject
   (`Proposal.subject`) still waits for a decision and the new one states nothing it does not,
   the new run writes nothing (no second approval task) and names the waiting one.
3. **A per-project daily write budget** (`PolicyConfig.daily_write_budget`): automatic writes
   beyond it are held back and reported; changes a human approves are never held.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from agents.proposal import Action, ApprovalClass, Proposal
from graphs.actions import is_ref, ref_name
from graphs.approval import agent_action_count
from graphs.kinds import spec_for
from graphs.ports import ApplyJournal, LedgerEntry, ProposalRepository
from graphs.state import Verdict

_SPACE = re.compile(r"\s+")


def _normalise(value: Any) -> Any:
    if isinstance(value, str):
        return _SPACE.sub(" ", value).strip()
    if isinstance(value, dict):
        return {k: _normalise(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalise(v) for v in value]
    return value


def content_key(action: Action) -> str:
    """Hash of the action's kind and what it states (`facts`, else target and params)."""
    if action.facts is not None:
        payload: dict[str, Any] = {"kind": action.kind.value, "facts": _normalise(action.facts)}
    else:
        payload = {"kind": action.kind.value, "target": action.target, "params": _normalise(action.params)}
    raw = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(raw.encode()).hexdigest()


def fact_key(action: Action) -> str | None:
    """The ledger's key for what `action` states; None when it states something about an object
    the same proposal creates (a `ref:`), which no earlier write can have stated."""
    if action.facts is None and _refs_in(action):
        return None
    return content_key(action)


def applied_repeat(journal: ApplyJournal, action: Action, proposal_id: str) -> LedgerEntry | None:
    """The applied ledger entry of another proposal that already stated what `action` states
    (guarded kinds only; the proposal's own entries are its retries, not repeats)."""
    if not spec_for(action.kind).repeat_guarded:
        return None
    key = fact_key(action)
    return journal.applied_fact(key, other_than=proposal_id) if key else None


@dataclass
class Quiet:
    """What the quiet rules left of a proposal, and why the rest was dropped."""

    proposal: Proposal
    repeats: list[Action] = field(default_factory=list)
    waiting: Proposal | None = None
    held: list[Action] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.repeats or self.waiting or self.held)


def drop_repeats(proposal: Proposal, journal: ApplyJournal, repo: ProposalRepository) -> Quiet:
    """Rules 1 and 2. An action whose `ref` later actions use is kept: the executor then settles
    it as a repeat and hands the earlier object's gid to them."""
    used_refs = _used_refs(proposal)
    kept: list[Action] = []
    repeats: list[Action] = []
    for action in proposal.actions:
        if (action.ref is None or action.ref not in used_refs) and applied_repeat(
            journal, action, proposal.id
        ):
            repeats.append(action)
        else:
            kept.append(action)
    quiet = Quiet(proposal.model_copy(update={"actions": kept}), repeats=repeats)
    if proposal.subject and kept:
        # Refs count here: within one agent's proposals the same ref names the same new object.
        new_keys = {content_key(a) for a in kept}
        for waiting in repo.waiting_about(proposal.agent, proposal.scope.workspace_gid, proposal.subject):
            if waiting.id != proposal.id and new_keys <= {
                content_key(a) for a in waiting.actions[: agent_action_count(waiting)]
            }:
                quiet.waiting = waiting
                quiet.repeats.extend(kept)
                quiet.proposal = proposal.model_copy(update={"actions": []})
                break
    return quiet


def _used_refs(proposal: Proposal) -> set[str]:
    """The `ref` names some action of `proposal` uses."""
    return {ref_name(v) for a in proposal.actions for v in _refs_in(a)}


def _refs_in(action: Action) -> list[str]:
    found: list[str] = []

    def walk(value: Any) -> None:
        if is_ref(value):
            found.append(value)
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    walk(action.target)
    walk(action.params)
    return found


def over_budget(proposal: Proposal, verdicts: list[Verdict], *, budget: int | None, used: int) -> set[int]:
    """Rule 3: indices of automatic actions beyond what is left of today's budget (in order).
    Actions whose `ref` others use stay (holding them would break their dependants)."""
    if budget is None:
        return set()
    used_refs = _used_refs(proposal)
    left = max(budget - used, 0)
    auto = [
        v.index
        for v in verdicts
        if v.approval_class == ApprovalClass.AUTO and proposal.actions[v.index].ref not in used_refs
    ]
    return set(auto[left:])


def explain(quiet: Quiet, *, budget: int | None, used: int, project: str | None) -> str:
    """One paragraph for the proposal's summary saying what was not written and why."""
    lines: list[str] = []
    if quiet.waiting is not None:
        lines.append(
            f"Nothing new: proposal {quiet.waiting.id[:12]} about the same thing still waits for a "
            "decision and already holds every change; nothing was written."
        )
    elif quiet.repeats:
        lines.append(
            f"{len(quiet.repeats)} write(s) left out: the same facts are already in Asana from an "
            "earlier run."
        )
    if quiet.held:
        lines.append(
            f"Daily write budget of project {project} reached ({used}/{budget} writes today): "
            f"{len(quiet.held)} automatic write(s) held back until tomorrow."
        )
    return " ".join(lines)


def start_of_day(now: datetime) -> datetime:
    return now.replace(hour=0, minute=0, second=0, microsecond=0)
