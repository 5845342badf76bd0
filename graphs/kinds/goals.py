"""The kind that links a project to an Asana goal as supporting work
(`POST /goals/{goal_gid}/addSupportingRelationship` with the project as `supporting_resource`)."""

from __future__ import annotations

from pydantic import Field

from agents.proposal import Action, ActionKind
from graphs.actions import InvalidAction, Params
from graphs.asana_port import AsanaReads
from graphs.kinds.spec import ActionSpec, StaleOutcome, WriteContext
from graphs.ports import LedgerStatus


class LinkGoalParams(Params):
    # An existing goal (the planner resolves a name among the goals the person can see).
    goal: str = Field(pattern=r"^\d+$")
    # Asana: how much the project's progress counts toward the goal's (0..1); None = Asana's default.
    contribution_weight: float | None = Field(default=None, ge=0, le=1)


class LinkGoal(ActionSpec[LinkGoalParams]):
    """The target project (existing, or the sprint a plan creates) supports the goal.

    Idempotent by reading first: a project already among the goal's supporting resources is done
    and nothing is written, so a retry after a lost answer (whose probe finds nothing to create)
    never adds a second relationship. The goal must be in the run's workspace."""

    kind = ActionKind.LINK_GOAL
    params_model = LinkGoalParams
    target = "project"

    def stale(
        self, asana: AsanaReads, action: Action, target: str | None, params: LinkGoalParams
    ) -> StaleOutcome | None:
        assert target
        for rel in asana.goal_relationships(params.goal):
            if rel.supporting_resource is not None and rel.supporting_resource.gid == target:
                return StaleOutcome(LedgerStatus.DONE, "the project already supports the goal", [])
        return None

    def write(self, w: WriteContext, target: str | None, params: LinkGoalParams) -> str | None:
        assert target
        goal = w.reads.goal(params.goal)
        if goal.workspace is not None and goal.workspace.gid != w.workspace_gid:
            raise InvalidAction(f"goal {params.goal} is not in workspace {w.workspace_gid}")
        w.asana.add_supporting_relationship(
            params.goal, target, contribution_weight=params.contribution_weight
        )
        return None
