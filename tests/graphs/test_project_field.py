"""set_project_custom_field: policy class and scope, idempotent apply, stale check, crash probe."""

from __future__ import annotations

import pytest

from agents.proposal import Action, ActionKind
from graphs.policy import evaluate
from graphs.policy_config import PolicyConfig
from graphs.ports import LedgerStatus
from graphs.runner import recover_run, resume_run, start_run
from graphs.scope import ScopeChecker
from tests.graphs.conftest import World, make_proposal
from tests.graphs.fakes import OTHER_PROJECT, OTHER_WORKSPACE, PROJECT, WORKSPACE, SimulatedCrash

PORTFOLIO = "8000"
FOREIGN_PORTFOLIO = "8900"  # in another workspace


def _health(value: object = 72.5, project: str = PROJECT, **kw: object) -> Action:
    params = {"field": "Health", "value": value, "portfolio": kw.pop("portfolio", PORTFOLIO)}
    return Action(kind=ActionKind.SET_PROJECT_CUSTOM_FIELD, target=project, params=params, **kw)  # type: ignore[arg-type]


@pytest.fixture
def portfolio_world(world: World) -> World:
    world.asana.add_portfolio(PORTFOLIO, "Mobile Portfolio", [PROJECT])
    world.asana.add_portfolio(FOREIGN_PORTFOLIO, "Their portfolio", [PROJECT], workspace=OTHER_WORKSPACE)
    return world


def _classes(
    world: World, actions: list[Action], config: PolicyConfig | None = None
) -> list[tuple[str, str]]:
    scope = ScopeChecker(world.asana, frozenset({WORKSPACE}), frozenset({PROJECT, OTHER_PROJECT}))
    return [
        (v.approval_class, v.note) for v in evaluate(make_proposal(actions), config or PolicyConfig(), scope)
    ]


def test_health_field_is_auto_other_project_fields_need_approval(portfolio_world: World) -> None:
    got = _classes(
        portfolio_world,
        [
            _health(),
            _health(72),  # an int value is fine too
            Action(
                kind=ActionKind.SET_PROJECT_CUSTOM_FIELD,
                target=PROJECT,
                params={"field": "Phase", "value": "Delivery", "portfolio": PORTFOLIO},
            ),
        ],
    )
    assert [c for c, _ in got] == ["auto", "auto", "needs_approval"]
    assert "health field 'Health'" in got[0][1] and "project field 'Phase' needs approval" in got[2][1]
    # The name is configurable: with another health field, "Health" is just a field.
    renamed = _classes(portfolio_world, [_health()], PolicyConfig(health_field="Team Health"))
    assert renamed[0][0] == "needs_approval"


def test_scope_allows_only_in_scope_projects_of_an_in_scope_portfolio(portfolio_world: World) -> None:
    got = _classes(
        portfolio_world,
        [
            _health(project=OTHER_PROJECT),  # allowed project, but not an item of the portfolio
            _health(project="9999"),  # not an allowed project at all
            _health(portfolio=FOREIGN_PORTFOLIO),  # the portfolio lives in another workspace
            _health(portfolio="8555"),  # no such portfolio
            _health(project="ref:new"),  # only existing projects
            _health(portfolio="ref:x"),  # params are strict: a gid
            _health(before={"Priority": 3}),  # before-values must name the field being set
            _health(before={"Health": None}),  # ... which is fine
        ],
    )
    classes = [c for c, _ in got]
    assert classes == ["denied"] * 7 + ["auto"], got
    notes = [n for _, n in got]
    assert f"not in portfolio {PORTFOLIO}" in notes[0]
    assert "outside the allowed projects" in notes[1]
    assert "not one of the allowed workspaces" in notes[2]
    assert "cannot be read" in notes[3]
    assert "portfolio" in notes[5] and "before-values" in notes[6]


def test_auto_apply_is_idempotent_and_reads_back(portfolio_world: World, thread_id: str) -> None:
    w = portfolio_world
    w.set_actions(lambda: [_health(72.5, before={"Health": None})])
    out = start_run(w.graph, w.ctx(), thread_id, {"agent": "fake_planner"})
    assert out.status == "done" and out.report is not None and out.report["status"] == "applied"
    assert w.asana.writes_of("update_project_custom_fields") == [(PROJECT, {"6101": 72.5})]
    assert w.asana.project_with_fields(PROJECT).field("Health") == 72.5
    assert w.audit.events("action.applied")[-1].details["kind"] == "set_project_custom_field"

    # A second run proposing the same value (before = what it saw, 72.5) writes nothing.
    w.set_actions(lambda: [_health(72.5, before={"Health": 72.5})])
    again = start_run(w.graph, w.ctx(), thread_id + "-2", {"agent": "fake_planner"})
    assert again.report is not None and again.report["status"] == "applied"
    assert len(w.asana.writes_of("update_project_custom_fields")) == 1
    entry = next(e for e in w.journal.entries.values() if e.thread_id == thread_id + "-2")
    assert entry.result is not None and entry.result["message"] == "already up to date"


def test_value_changed_since_the_proposal_is_a_conflict(portfolio_world: World, thread_id: str) -> None:
    w = portfolio_world
    w.asana.set_project_value(PROJECT, "Phase", "Discovery")
    w.set_actions(
        lambda: [
            Action(
                kind=ActionKind.SET_PROJECT_CUSTOM_FIELD,
                target=PROJECT,
                params={"field": "Phase", "value": "Delivery", "portfolio": PORTFOLIO},
                before={"Phase": "Discovery"},
            )
        ]
    )
    out = start_run(w.graph, w.ctx(), thread_id, {"agent": "fake_planner"})
    assert out.status == "awaiting_approval"  # not the health field: a human decides
    w.asana.project_values[PROJECT]["6102"] = None  # a human cleared it meanwhile
    done = resume_run(w.graph, w.ctx(), thread_id, [{"type": "approve"}], "alice")
    assert done.report is not None and done.report["status"] == "failed"
    assert done.report["conflicts"][0] == {
        "index": 0,
        "kind": "set_project_custom_field",
        "target": PROJECT,
        "field": "Phase",
        "before": "Discovery",
        "now": None,
        "wanted": "Delivery",
    }
    assert not w.asana.writes_of("update_project_custom_fields")
    assert w.audit.events("action.conflict")


def test_crash_after_the_write_is_healed_without_writing_again(
    portfolio_world: World, thread_id: str
) -> None:
    w = portfolio_world
    w.set_actions(lambda: [_health(40.0, before={"Health": None})])
    w.asana.crash_after_write = 1
    with pytest.raises(SimulatedCrash):
        start_run(w.graph, w.ctx(), thread_id, {"agent": "fake_planner"})
    assert len(w.journal.by_status(LedgerStatus.PENDING)) == 1  # written, but the ledger never heard

    w.recompile()
    out = recover_run(w.graph, w.ctx(), thread_id)
    assert out.report is not None and out.report["status"] == "applied"
    assert len(w.asana.writes_of("update_project_custom_fields")) == 1
    entry = next(iter(w.journal.entries.values()))
    assert entry.attempts == 2 and entry.result is not None
    assert entry.result["message"] == "already up to date"


def test_missing_field_fails_cleanly_at_apply(portfolio_world: World, thread_id: str) -> None:
    w = portfolio_world
    w.set_actions(
        lambda: [
            Action(
                kind=ActionKind.SET_PROJECT_CUSTOM_FIELD,
                target=PROJECT,
                params={"field": "Budget", "value": 3, "portfolio": PORTFOLIO},
            )
        ]
    )
    start_run(w.graph, w.ctx(), thread_id, {"agent": "fake_planner"})
    done = resume_run(w.graph, w.ctx(), thread_id, [{"type": "approve"}], "alice")
    assert done.report is not None and done.report["status"] == "failed"
    assert "Budget" in done.report["failures"][0]["message"]
