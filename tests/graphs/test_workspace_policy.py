"""The policy that judges a run is the one of the workspace the run acts in (issue 14 defect)."""

from __future__ import annotations

from agents.proposal import Action, ActionKind
from graphs.policy_config import PolicyConfig
from graphs.runner import start_run
from service.runtime import Runtime
from service.settings import ApprovalPolicy, load_settings
from tests.graphs.conftest import T1, World
from tests.graphs.fakes import WORKSPACE
from tools.llm.engine import LanguageEngine


def _runtime(**settings: object) -> Runtime:
    """A Runtime with only settings: `context()` needs nothing else to build the policies."""
    return Runtime(
        settings=load_settings(**settings),
        engine=None,  # type: ignore[arg-type]
        repo=None,  # type: ignore[arg-type]
        journal=None,  # type: ignore[arg-type]
        audit=None,  # type: ignore[arg-type]
        asana=None,  # type: ignore[arg-type]
        registry=None,  # type: ignore[arg-type]
        graph=None,
        language=LanguageEngine(),
    )


def test_per_workspace_override_applies_to_that_workspace_not_the_first_configured() -> None:
    policy = ApprovalPolicy(workspaces={"1": {ActionKind.POST_COMMENT: "denied"}})
    ctx = _runtime(allowed_workspaces=["2", "1"], approval_policy=policy).context()
    assert ActionKind.POST_COMMENT in ctx.policy_for("1").denied_kinds
    assert ActionKind.POST_COMMENT not in ctx.policy_for("2").denied_kinds
    assert ActionKind.POST_COMMENT in ctx.policy_for("2").auto_kinds
    # One answer to "which workspace": the first allowed, in the order configured.
    assert ctx.resolve_workspace() == "2"
    assert ctx.resolve_workspace("1") == "1"


def test_the_policy_node_judges_by_the_proposals_workspace(world: World, thread_id: str) -> None:
    world.set_actions(
        lambda: [Action(kind=ActionKind.POST_COMMENT, target=T1, params={"text": "hi"}, reason="note")]
    )
    strict = PolicyConfig(denied_kinds=frozenset({ActionKind.POST_COMMENT}))
    ctx = world.ctx(policy=PolicyConfig(), policies={WORKSPACE: strict, "999": PolicyConfig()})
    out = start_run(world.graph, ctx, thread_id, {"agent": "fake_planner", "trigger": "cli"})
    assert out.report is not None
    assert out.report["counts"].get("denied") == 1, out.report
    assert not world.asana.writes
