"""The configurable approval policy (per workspace; defaults follow the architecture card)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from agents.proposal import ActionKind, ApprovalClass
from graphs.kinds import default_classes
from tools.asana.field_names import (
    AI_PRIORITY_SCORE,
    AI_SUGGESTION,
    ESTIMATED_STORY_POINTS,
    HEALTH,
    IMPEDIMENTS,
    RISK_SCORE,
)

# Each kind's spec says whether it is auto by default (graphs/kinds/); this is only their union.
DEFAULT_AUTO_KINDS = frozenset(k for k, c in default_classes().items() if c is ApprovalClass.AUTO)

# Fields that only carry the AI's own suggestions; writing them changes no commitment.
DEFAULT_AUTO_FIELDS = frozenset(
    {AI_PRIORITY_SCORE, ESTIMATED_STORY_POINTS, RISK_SCORE, AI_SUGGESTION, IMPEDIMENTS}
)


class PolicyConfig(BaseModel):
    model_config = ConfigDict(frozen=True)

    auto_kinds: frozenset[ActionKind] = DEFAULT_AUTO_KINDS
    auto_custom_fields: frozenset[str] = DEFAULT_AUTO_FIELDS
    # Kinds this workspace never allows (e.g. {"create_project"} for a read-mostly team).
    denied_kinds: frozenset[ActionKind] = frozenset()
    # The portfolio field the health agent writes per project; setting it is auto (it only carries
    # the agent's own score), any other project field needs approval.
    health_field: str = Field(default=HEALTH, min_length=1)
    comment_tag: str = "[AI Proposal]"
    max_actions: int = Field(default=500, ge=1)
    # Automatic writes per project per day (comments, status updates, AI fields…); beyond it they
    # are held back and reported. Approved changes are never held. None: no limit.
    daily_write_budget: int | None = Field(default=150, ge=0)
    # The portfolio where the stand-up and the dependency manager keep every team's open blockers
    # (tools/standup/blockers_portfolio.py); None: not kept. Creating it, its projects and its
    # tasks, and completing them, go through approval like any other such write.
    blockers_portfolio: str | None = None

    def is_health_field(self, name: str) -> bool:
        return name.strip().casefold() == self.health_field.strip().casefold()

    def is_auto_field(self, name: str) -> bool:
        folded = name.strip().casefold()
        return any(folded == f.casefold() for f in self.auto_custom_fields)
