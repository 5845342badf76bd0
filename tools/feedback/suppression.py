"""Kinds of suggestion people keep rejecting are held back for a while (pure).

Rule, per (project, action kind), over the proposals decided by a person in the last
`window_days` (each proposal counts once per kind: rejected when every action of that kind in it
was rejected): when at least `min_rejected` of the newest `last` were rejected and the newest was
not approved, the kind is **held back** in that project: an unsolicited run (event or schedule)
leaves those actions out and says so in its summary and evidence. An approval of the kind lifts it
at once (the newest is then an approval); so does time: rejections older than the window stop
counting. Explicit requests (CLI, chat, MCP) are always answered in full.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from agents.proposal import REF_PREFIX, Action, Proposal
from tools.feedback.models import DecisionOutcome, FeedbackSource

UNSOLICITED_TRIGGERS = frozenset({"event", "schedule"})


@dataclass(frozen=True)
class SuppressionRule:
    last: int = 5
    min_rejected: int = 3
    window_days: int = 14


DEFAULT_RULE = SuppressionRule()


@dataclass(frozen=True)
class Held:
    project_gid: str
    action_kind: str
    rejected: int
    considered: int
    until: datetime  # when the oldest counted rejection leaves the window (earliest lift by decay)

    def note(self, rule: SuppressionRule) -> str:
        return (
            f"{self.action_kind} held back in project {self.project_gid}: {self.rejected} of the last "
            f"{self.considered} were rejected (within {rule.window_days} days); it comes back after "
            f"an approval or from {self.until.date().isoformat()}"
        )


def held_kinds(
    outcomes: Iterable[DecisionOutcome], now: datetime, rule: SuppressionRule = DEFAULT_RULE
) -> dict[tuple[str, str], Held]:
    """(project gid, action kind) → Held, for every kind the rule holds back now."""
    since = now - timedelta(days=rule.window_days)
    by_key: dict[tuple[str, str], list[DecisionOutcome]] = {}
    for o in outcomes:
        if o.decided_at < since:
            continue
        for project in o.project_gids:
            by_key.setdefault((project, o.action_kind), []).append(o)
    held: dict[tuple[str, str], Held] = {}
    for key, rows in by_key.items():
        newest = sorted(rows, key=lambda o: (o.decided_at, o.proposal_id), reverse=True)[: rule.last]
        rejected = [o for o in newest if o.rejected]
        if len(rejected) >= rule.min_rejected and newest[0].rejected:
            # Decay: the hold lifts when enough rejections have aged out of the window.
            counted = sorted(o.decided_at for o in rejected)
            lift = counted[len(counted) - rule.min_rejected] + timedelta(days=rule.window_days)
            held[key] = Held(key[0], key[1], len(rejected), len(newest), lift)
    return held


def _drop_with_dependents(actions: list[Action], dropped: set[int]) -> set[int]:
    """Also drop actions that use a dropped action's `ref:` (they could not run without it)."""
    changed = True
    while changed:
        changed = False
        refs = {f"{REF_PREFIX}{actions[i].ref}" for i in dropped if actions[i].ref}
        for i, a in enumerate(actions):
            if i in dropped or not refs:
                continue
            blob = json.dumps([a.target, a.params], default=str)
            if any(r in blob for r in refs):
                dropped.add(i)
                changed = True
    return dropped


def hold_back(
    proposal: Proposal, held: dict[tuple[str, str], Held], rule: SuppressionRule = DEFAULT_RULE
) -> Proposal:
    """The proposal without the held-back kinds' actions, saying so; unchanged when none apply."""
    projects = proposal.scope.project_gids
    hits = {h.action_kind: h for p in projects for (hp, kind), h in held.items() if hp == p}
    dropped = {i for i, a in enumerate(proposal.actions) if a.kind.value in hits}
    if not dropped:
        return proposal
    dropped = _drop_with_dependents(proposal.actions, dropped)
    kept = [a for i, a in enumerate(proposal.actions) if i not in dropped]
    notes = [
        h.note(rule)
        for h in hits.values()
        if any(proposal.actions[i].kind.value == h.action_kind for i in dropped)
    ]
    summary = (
        proposal.summary_markdown.rstrip()
        + "\n\n**Held back after repeated rejections:** "
        + (f"{len(dropped)} action(s) left out. " + "; ".join(notes) + ".")
    )
    evidence: dict[str, Any] = {
        **proposal.evidence,
        "feedback_suppressed": {
            "actions_left_out": len(dropped),
            "kinds": sorted(hits),
            "notes": notes,
            "rule": {"last": rule.last, "min_rejected": rule.min_rejected, "window_days": rule.window_days},
        },
    }
    return proposal.model_copy(update={"actions": kept, "summary_markdown": summary, "evidence": evidence})


def apply_suppression(
    proposal: Proposal,
    source: FeedbackSource | None,
    *,
    trigger: str,
    now: datetime,
    rule: SuppressionRule = DEFAULT_RULE,
) -> Proposal:
    """The one entry point (graphs/supervisor.py): unsolicited runs leave held-back kinds out."""
    if source is None or trigger not in UNSOLICITED_TRIGGERS or not proposal.actions:
        return proposal
    projects = proposal.scope.project_gids
    if not projects:
        return proposal
    outcomes = source.decision_outcomes(since=now - timedelta(days=rule.window_days), project_gids=projects)
    return hold_back(proposal, held_kinds(outcomes, now, rule), rule)
