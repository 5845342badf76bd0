"""The action-kind registry: one spec per kind, and `remove_from_project` added as one spec.

`remove_from_project` is the worked example of "how to add an action kind" in the README: an enum
member, one spec class in graphs/kinds/tasks.py, one line in the registry, the write on the
AsanaWrites port, and these tests. The policy, publish, executor and default policy needed no edit.
"""

from __future__ import annotations

import pytest

from agents.proposal import Action, ActionKind, ApprovalClass, Decision, DecisionType
from graphs.kinds import all_specs, default_classes, spec_for
from graphs.policy_config import DEFAULT_AUTO_KINDS
from graphs.ports import LedgerStatus
from graphs.runner import resume_run, start_run
from service.settings import ApprovalPolicy
from tests.graphs.conftest import T1, World
from tests.graphs.fakes import OTHER_PROJECT, PROJECT


def test_every_kind_has_exactly_one_spec() -> None:
    kinds = [s.kind for s in all_specs()]
    assert sorted(kinds) == sorted(ActionKind)
    assert len(set(kinds)) == len(kinds)
    for kind in ActionKind:
        spec = spec_for(kind)
        assert spec.kind is kind
        assert spec.params_model.model_config.get("extra") == "forbid"


def test_default_policies_come_from_the_specs() -> None:
    assert {k for k, c in default_classes().items() if c is ApprovalClass.AUTO} == DEFAULT_AUTO_KINDS
    assert ApprovalPolicy().kinds == default_classes()
    assert default_classes()[ActionKind.REMOVE_FROM_PROJECT] is ApprovalClass.NEEDS_APPROVAL


def _remove(project: str) -> list[Action]:
    return [
        Action(
            kind=ActionKind.REMOVE_FROM_PROJECT,
            target=T1,
            params={"project": project},
            reason="carried over out of the sprint",
        )
    ]


def test_remove_from_project_waits_for_approval_then_applies_once(world: World, thread_id: str) -> None:
    world.set_actions(lambda: _remove(PROJECT))
    out = start_run(world.graph, world.ctx(), thread_id, {"agent": "fake_planner", "trigger": "cli"})
    assert out.status == "awaiting_approval" and out.interrupt is not None
    assert "remove_task_from_project" not in [m for m, _ in world.asana.writes]
    (request,) = out.interrupt["action_requests"]
    assert request["name"] == "remove_from_project"

    done = resume_run(world.graph, world.ctx(), thread_id, [Decision(type=DecisionType.APPROVE)], "po")
    assert done.status == "done"
    assert [a for m, a in world.asana.writes if m == "remove_task_from_project"] == [(T1, PROJECT)]
    assert all(m.project is None or m.project.gid != PROJECT for m in world.asana.tasks[T1].memberships)


def test_remove_from_project_is_already_done_when_the_task_left(world: World, thread_id: str) -> None:
    world.set_actions(lambda: _remove(PROJECT))
    start_run(world.graph, world.ctx(), thread_id, {"agent": "fake_planner", "trigger": "cli"})
    world.asana.remove_task_from_project(T1, PROJECT)  # a human did it meanwhile
    out = resume_run(world.graph, world.ctx(), thread_id, [Decision(type=DecisionType.APPROVE)], "po")
    assert out.report is not None and out.report["status"] == "applied"
    (entry,) = [e for e in world.journal.by_status(LedgerStatus.DONE) if e.kind == "remove_from_project"]
    assert entry.result is not None and "already" in entry.result["message"]
    # Only the human's removal reached Asana; the approved action wrote nothing.
    assert [m for m, _ in world.asana.writes].count("remove_task_from_project") == 1


@pytest.mark.parametrize(
    ("project", "why"), [(OTHER_PROJECT, "outside the allowed projects"), ("ref:sprint", "existing project")]
)
def test_remove_from_project_outside_scope_or_by_ref_is_denied(
    world: World, thread_id: str, project: str, why: str
) -> None:
    world.set_actions(lambda: _remove(project))
    out = start_run(world.graph, world.ctx(), thread_id, {"agent": "fake_planner", "trigger": "cli"})
    assert out.report is not None and out.report["counts"].get("denied") == 1
    assert why in str(out.report)
    assert "remove_task_from_project" not in [m for m, _ in world.asana.writes]
