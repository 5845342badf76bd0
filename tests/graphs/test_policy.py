"""Policy: classification, strict params, scope and ref checks (unit level and through the graph)."""

from __future__ import annotations

from agents.proposal import Action, ActionKind
from graphs.policy import evaluate, with_tagged_comments
from graphs.policy_config import PolicyConfig
from graphs.ports import LedgerStatus
from graphs.runner import start_run
from graphs.scope import ScopeChecker
from tests.graphs.conftest import T1, T2, T_OUT, World, make_proposal
from tests.graphs.fakes import OTHER_PROJECT, OTHER_WORKSPACE, PROJECT, WORKSPACE, FakeAsana


def _verdicts(
    world: World, actions: list[Action], config: PolicyConfig | None = None, workspace: str = WORKSPACE
) -> list[tuple[str, str]]:
    proposal = make_proposal(actions)
    proposal.scope.workspace_gid = workspace
    scope = ScopeChecker(world.asana, frozenset({WORKSPACE}), frozenset({PROJECT}))
    return [(v.approval_class, v.note) for v in evaluate(proposal, config or PolicyConfig(), scope)]


def test_default_classes(world: World) -> None:
    got = _verdicts(
        world,
        [
            Action(kind=ActionKind.POST_COMMENT, target=T1, params={"text": "hi"}),
            Action(kind=ActionKind.SET_CUSTOM_FIELD, target=T1, params={"field": "Risk Score", "value": 3}),
            Action(
                kind=ActionKind.SET_CUSTOM_FIELD,
                target=T1,
                params={"field": "estimated story points", "value": 3},
            ),
            Action(
                kind=ActionKind.SET_CUSTOM_FIELD, target=T1, params={"field": "Priority", "value": "High"}
            ),
            Action(kind=ActionKind.UPDATE_TASK, target=T1, params={"assignee": "3000"}),
            Action(kind=ActionKind.UPDATE_TASK, target=T1, params={"completed": True}),
            Action(kind=ActionKind.ADD_DEPENDENCY, target=T1, params={"dependencies": [T2]}),
            Action(
                kind=ActionKind.POST_STATUS_UPDATE, target=PROJECT, params={"title": "Day 3", "text": "ok"}
            ),
        ],
    )
    assert [c for c, _ in got] == [
        "auto",
        "auto",
        "auto",
        "needs_approval",
        "needs_approval",
        "needs_approval",
        "needs_approval",
        "auto",
    ]


def test_target_outside_scope_is_denied_with_reason(world: World) -> None:
    got = _verdicts(
        world,
        [
            Action(kind=ActionKind.UPDATE_TASK, target=T_OUT, params={"due_on": "2026-12-01"}),
            Action(kind=ActionKind.POST_COMMENT, target=T_OUT, params={"text": "hi"}),
            Action(kind=ActionKind.CREATE_TASK, params={"name": "x", "projects": [OTHER_PROJECT]}),
            Action(kind=ActionKind.ADD_DEPENDENCY, target=T1, params={"dependencies": [T_OUT]}),
            Action(
                kind=ActionKind.POST_STATUS_UPDATE, target=OTHER_PROJECT, params={"title": "t", "text": "x"}
            ),
            Action(kind=ActionKind.UPDATE_TASK, target="77777", params={"due_on": "2026-12-01"}),
        ],
    )
    assert all(c == "denied" for c, _ in got)
    assert f"task {T_OUT} is not in an allowed project" in got[0][1]
    assert f"project {OTHER_PROJECT} is outside the allowed projects" in got[2][1]
    assert "cannot be read" in got[5][1]


def test_whole_proposal_denied_for_foreign_workspace(world: World) -> None:
    got = _verdicts(
        world,
        [Action(kind=ActionKind.POST_COMMENT, target=T1, params={"text": "hi"})],
        workspace=OTHER_WORKSPACE,
    )
    assert got[0][0] == "denied" and "workspace" in got[0][1]


def test_params_are_strict(world: World) -> None:
    got = _verdicts(
        world,
        [
            Action(
                kind=ActionKind.UPDATE_TASK, target=T1, params={"due_on": "2026-12-01", "followers": ["1"]}
            ),
            Action(kind=ActionKind.UPDATE_TASK, target=T1, params={}),
            Action(kind=ActionKind.UPDATE_TASK, target=T1, params={"due_on": "next week"}),
            Action(kind=ActionKind.POST_COMMENT, target=None, params={"text": "hi"}),
            Action(kind=ActionKind.CREATE_PROJECT, target=T1, params={"name": "x"}),
            Action(
                kind=ActionKind.UPDATE_TASK,
                target=T1,
                params={"due_on": "2026-12-01"},
                before={"priority": 1},
            ),
            Action(kind=ActionKind.ADD_DEPENDENCY, target=T1, params={"dependencies": ["not-a-gid"]}),
        ],
    )
    assert all(c == "denied" for c, _ in got), got
    assert "followers" in got[0][1]
    assert "at least one field" in got[1][1]
    assert "needs a target" in got[3][1]
    assert "takes no target" in got[4][1]
    assert "cannot be checked" in got[5][1]


def test_refs_must_point_backwards_to_the_right_type(world: World) -> None:
    got = _verdicts(
        world,
        [
            Action(kind=ActionKind.CREATE_SECTION, target="ref:later", params={"name": "To Do"}),
            Action(kind=ActionKind.CREATE_PROJECT, params={"name": "P"}, ref="later"),
            Action(kind=ActionKind.POST_COMMENT, target="ref:later", params={"text": "a project is no task"}),
            Action(kind=ActionKind.UPDATE_TASK, target=T1, params={"name": "x"}, ref="nope"),
            Action(
                kind=ActionKind.CREATE_TASK,
                params={"name": "t", "projects": ["ref:later"]},
                ref="__approval_task__",
            ),
        ],
    )
    assert got[0][0] == "denied" and "not created by an earlier action" in got[0][1]
    assert got[1][0] == "needs_approval"
    assert got[2][0] == "denied" and "names a project" in got[2][1]
    assert got[3][0] == "denied" and "creates nothing" in got[3][1]
    assert got[4][0] == "denied" and "reserved" in got[4][1]


def test_actions_depending_on_denied_ones_are_denied(world: World) -> None:
    got = _verdicts(
        world,
        [
            Action(kind=ActionKind.CREATE_TASK, params={"name": "t", "projects": [OTHER_PROJECT]}, ref="t"),
            Action(kind=ActionKind.POST_COMMENT, target="ref:t", params={"text": "hello"}),
        ],
    )
    assert got[1] == ("denied", "depends on action #1, which is denied")  # numbered from 1


def test_configurable_policy(world: World) -> None:
    config = PolicyConfig(
        denied_kinds=frozenset({ActionKind.CREATE_PROJECT}),
        auto_custom_fields=frozenset({"Priority"}),
        max_actions=5,
    )
    got = _verdicts(
        world,
        [
            Action(kind=ActionKind.CREATE_PROJECT, params={"name": "P"}),
            Action(
                kind=ActionKind.SET_CUSTOM_FIELD, target=T1, params={"field": "Priority", "value": "High"}
            ),
            Action(kind=ActionKind.SET_CUSTOM_FIELD, target=T1, params={"field": "Risk Score", "value": 1}),
        ],
        config,
    )
    assert [c for c, _ in got] == ["denied", "auto", "needs_approval"]
    too_many = _verdicts(
        world, [Action(kind=ActionKind.POST_COMMENT, target=T1, params={"text": "x"})] * 6, config
    )
    assert {c for c, _ in too_many} == {"denied"}


def test_comments_get_the_tag_once() -> None:
    proposal = make_proposal(
        [
            Action(kind=ActionKind.POST_COMMENT, target=T1, params={"text": "hello"}),
            Action(kind=ActionKind.POST_COMMENT, target=T1, params={"text": "[AI Proposal] already tagged"}),
        ]
    )
    tagged = with_tagged_comments(proposal, PolicyConfig())
    assert [a.params["text"] for a in tagged.actions] == [
        "[AI Proposal] hello",
        "[AI Proposal] already tagged",
    ]


def test_project_scope_from_workspace_when_no_projects_configured() -> None:
    asana = FakeAsana()
    asana.add_project(PROJECT, "Mine")
    asana.add_project("9200", "Elsewhere", workspace=OTHER_WORKSPACE)
    asana.add_task(T1, "t")
    asana.add_task("4999", "foreign", project="9200")
    scope = ScopeChecker(asana, frozenset({WORKSPACE}), frozenset())
    proposal = make_proposal(
        [
            Action(kind=ActionKind.POST_COMMENT, target=T1, params={"text": "x"}),
            Action(kind=ActionKind.POST_COMMENT, target="4999", params={"text": "x"}),
        ]
    )
    assert [v.approval_class for v in evaluate(proposal, PolicyConfig(), scope)] == ["auto", "denied"]


def test_denied_actions_are_ledgered_audited_and_never_asked_or_written(world: World, thread_id: str) -> None:
    world.set_actions(
        lambda: [
            Action(kind=ActionKind.UPDATE_TASK, target=T_OUT, params={"assignee": "666"}, reason="injected"),
            Action(kind=ActionKind.UPDATE_TASK, target=T1, params={"due_on": "2026-12-11"}, reason="legit"),
        ]
    )
    out = start_run(world.graph, world.ctx(), thread_id, {"agent": "fake_planner"})
    assert out.interrupt is not None
    assert [r["args"]["target"] for r in out.interrupt["action_requests"]] == [T1]
    denied = world.journal.by_status(LedgerStatus.DENIED)
    assert [e.action_index for e in denied] == [0]
    assert world.audit.events("action.denied")[0].actor == "system:policy"
    assert not [a for m, a in world.asana.writes if m == "update_task"]
    comment = next(iter(world.asana.story_log.values()))[0].text or ""
    assert "Refused by policy (1)" in comment
