"""Flag thresholds that adapt to what people confirmed (pure).

Signals (from the feedback store, last `window_days`, about the tasks the agent is looking at):
- a **miss**: a person raised a task's Risk Score across the flag line (sprintpilot had not seen it);
- a **false alarm**: a 👎 / "wrong" reply to the agent's flag (a stand-up nudge, a dependency
  alert), a person lowering a flagged Risk Score below the line, or clearing Impediments.

Rule: nothing moves until there are at least `min_count` signals in the window. Then the value
moves by `step` per net signal (misses − false alarms) in the direction that flags more (misses)
or less (false alarms), at most `max_shift` from the base and within [`lo`, `hi`]. The base is
what the agent would use without feedback (e.g. the delay model's F1-tuned threshold), so the
adaptation is always stated against it: "threshold 0.62 (was 0.70): 4 confirmed misses in 30 days".
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from agents.proposal import Proposal
from tools.feedback.models import FeedbackItem, FeedbackSource, Verdict


@dataclass(frozen=True)
class ThresholdRule:
    name: str
    step: float
    max_shift: float
    lo: float
    hi: float
    # +1: a larger value flags more (a horizon in days); -1: a smaller value flags more (a probability).
    more_flags: int = -1
    min_count: int = 3
    window_days: int = 30
    agent: str | None = None  # whose flag replies count as false alarms
    integer: bool = False


# The dependency manager's delay-risk probability threshold.
DELAY_RULE = ThresholdRule(
    "delay-risk threshold", step=0.02, max_shift=0.15, lo=0.05, hi=0.95, more_flags=-1, agent="dependencies"
)
# The stand-up's "due soon" horizon (working days): a task due within it and not started is at risk.
AT_RISK_RULE = ThresholdRule(
    "at-risk horizon (working days)",
    step=0.5,
    max_shift=3,
    lo=0,
    hi=10,
    more_flags=1,
    agent="standup",
    integer=True,
)


@dataclass(frozen=True)
class Adapted:
    value: float
    base: float
    misses: int
    false_alarms: int
    rule: ThresholdRule

    @property
    def moved(self) -> bool:
        return self.value != self.base

    def _fmt(self, v: float) -> str:
        return f"{int(v)}" if self.rule.integer else f"{v:.2f}"

    def note(self) -> str:
        counts = []
        if self.misses:
            counts.append(f"{self.misses} confirmed miss{'es' if self.misses != 1 else ''}")
        if self.false_alarms:
            counts.append(f"{self.false_alarms} false alarm{'s' if self.false_alarms != 1 else ''}")
        said = " and ".join(counts) or "no confirmed misses or false alarms"
        window = f"in {self.rule.window_days} days"
        if self.moved:
            return f"{self.rule.name} {self._fmt(self.value)} (was {self._fmt(self.base)}): {said} {window}"
        total = self.misses + self.false_alarms
        if total < self.rule.min_count:
            return (
                f"{self.rule.name} {self._fmt(self.value)}: {said} {window} "
                f"(moves after {self.rule.min_count})"
            )
        return f"{self.rule.name} {self._fmt(self.value)}: {said} {window} (they cancel out)"

    def evidence(self) -> dict[str, Any]:
        return {
            "rule": self.rule.name,
            "value": self.value,
            "base": self.base,
            "misses": self.misses,
            "false_alarms": self.false_alarms,
            "min_count": self.rule.min_count,
            "window_days": self.rule.window_days,
            "note": self.note(),
        }


def signals(items: Iterable[FeedbackItem], rule: ThresholdRule) -> tuple[int, int]:
    """(misses, false alarms) among `items` (already limited to the window and the tasks in view).
    A false alarm from a reply counts only for the agent whose flag it answers."""
    misses = alarms = 0
    for item in items:
        if item.verdict is Verdict.MISS:
            misses += 1
        elif item.verdict is Verdict.FALSE_ALARM and (
            item.field is not None or rule.agent is None or item.agent == rule.agent
        ):
            alarms += 1
    return misses, alarms


def adapt(base: float, misses: int, false_alarms: int, rule: ThresholdRule) -> Adapted:
    if misses + false_alarms < rule.min_count:
        return Adapted(base, base, misses, false_alarms, rule)
    shift = rule.more_flags * rule.step * (misses - false_alarms)
    shift = max(-rule.max_shift, min(rule.max_shift, shift))
    value = max(rule.lo, min(rule.hi, base + shift))
    value = float(math.floor(value + 0.5)) if rule.integer else round(value, 4)
    return Adapted(value, base, misses, false_alarms, rule)


def from_feedback(
    source: FeedbackSource | None,
    base: float,
    rule: ThresholdRule,
    *,
    task_gids: Collection[str],
    now: datetime,
) -> Adapted | None:
    """The rule applied to the stored feedback about `task_gids`; None without a feedback store."""
    if source is None:
        return None
    items = source.items(since=now - timedelta(days=rule.window_days), task_gids=task_gids)
    misses, alarms = signals(items, rule)
    return adapt(base, misses, alarms, rule)


def with_threshold_evidence(
    proposal: Proposal, adapted: Adapted | None, key: str = "feedback_threshold"
) -> Proposal:
    """The adaptation stated in the proposal's evidence (always) and summary (when it moved)."""
    if adapted is None:
        return proposal
    update: dict[str, Any] = {"evidence": {**proposal.evidence, key: adapted.evidence()}}
    if adapted.moved:
        update["summary_markdown"] = proposal.summary_markdown.rstrip() + f"\n\n_Feedback: {adapted.note()}._"
    return proposal.model_copy(update=update)
