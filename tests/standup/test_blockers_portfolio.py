"""The Blockers portfolio (issue 21) through supervisor → policy → publish → gate → apply on the
embedded sandbox: the stand-up and the dependency manager keep one portfolio with a project per
team and a task per open blocker; created only once approved, exactly once, quiet when unchanged.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from agents.dependencies import dependencies_specialist
from agents.planner import planner_specialist
from agents.proposal import Action, ActionKind, Proposal
from agents.standup import standup_specialist
from graphs.registry import SpecialistRegistry
from graphs.runner import RunOutcome, start_run
from service.approvals import ApplyInterrupted, build_decisions, decide, find_proposal, resume
from service.runtime import Runtime, open_runtime
from service.schedules.standup import run_daily_standup
from service.settings import load_settings
from tests.standup.conftest import NOW
from tools.asana.errors import ServerError
from tools.asana.models import Task
from tools.standup.blockers_portfolio import blocker_key

DAY2 = NOW + timedelta(days=1)  # Friday 2026-11-20, Sprint 23's last day
_BLOCKER_KINDS = {
    ActionKind.CREATE_PORTFOLIO,
    ActionKind.ADD_TO_PORTFOLIO,
    ActionKind.CREATE_PROJECT,
    ActionKind.CREATE_TASK,
}


@pytest.fixture
def rt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    for var in ("SPRINTPILOT_ASANA_BASE_URL", "SPRINTPILOT_DATABASE_URL", "SPRINTPILOT_MODEL"):
        monkeypatch.delenv(var, raising=False)
    settings = load_settings(data_dir=tmp_path, asana_base_url=None, model="offline", blockers_portfolio="on")
    registry = SpecialistRegistry([planner_specialist(), standup_specialist(), dependencies_specialist()])
    with open_runtime(settings, registry=registry) as runtime:
        yield runtime


def _ws(rt: Runtime) -> str:
    return rt.allowed_workspaces()[0]


def _mutations(rt: Runtime) -> Counter[str]:
    assert rt.sandbox is not None
    return Counter(rt.sandbox.store.stats.snapshot()["mutating"])


def _run(rt: Runtime, agent: str, args: dict[str, Any], now: datetime) -> RunOutcome:
    ctx = rt.context(
        actor=f"agent:{agent}", approver_gid=rt.approver_for(_ws(rt), "Sprint 23"), now=lambda: now
    )
    return start_run(rt.graph, ctx, uuid.uuid4().hex, {"agent": agent, "args": args, "trigger": "cli"})


def _standup(rt: Runtime, project: str = "Sprint 23", now: datetime = NOW) -> RunOutcome:
    return _run(rt, "standup", {"project": project}, now)


def _deps(rt: Runtime, projects: list[str], now: datetime = NOW) -> RunOutcome:
    return _run(rt, "dependencies", {"projects": projects, "delay_model": False}, now)


def _proposal(rt: Runtime, out: RunOutcome | None = None) -> Proposal:
    """The proposal the (last) run made: the newest one saved."""
    return max(rt.repo.list_proposals(), key=lambda r: r.proposal.created_at).proposal


def _blocker_actions(proposal: Proposal) -> list[Action]:
    return [
        a
        for a in proposal.actions
        if a.kind in _BLOCKER_KINDS
        or (a.kind == ActionKind.UPDATE_TASK and a.params.get("completed") is True)
    ]


def _approve(rt: Runtime, out: RunOutcome) -> RunOutcome:
    assert out.status == "awaiting_approval" and out.interrupt is not None, out.report
    record = find_proposal(rt, out.interrupt["proposal_id"])
    return decide(rt, record, build_decisions(out.interrupt), "alice", out.interrupt.get("digest"))


def _portfolios(rt: Runtime, name: str = "Blockers") -> list[str]:
    return [p.gid for p in rt.asana.portfolios(_ws(rt)) if p.name == name]


def _items(rt: Runtime, portfolio: str) -> dict[str, str]:
    return {p.name or "": p.gid for p in rt.asana.portfolio_items(portfolio)}


def _blocker_tasks(rt: Runtime, project_gid: str, blocked_gid: str) -> list[Task]:
    return [t for t in rt.asana.project_tasks(project_gid) if blocker_key(blocked_gid) in (t.notes or "")]


def _blocked_in_sprint(rt: Runtime) -> Task:
    """The sprint's one task whose Status is Blocked (the generated Sprint 23 has exactly one)."""
    sprint = rt.asana.find_project(_ws(rt), "Sprint 23")
    blocked = [
        t for t in rt.asana.project_tasks(sprint.gid) if not t.completed and t.text("Status") == "Blocked"
    ]
    assert len(blocked) == 1
    return blocked[0]


def _set_status(rt: Runtime, task_gid: str, project_gid: str, status: str) -> None:
    fields = rt.asana.field_map(project_gid).to_custom_fields({"Status": status})
    rt.asana.update_task(task_gid, {"custom_fields": fields})


def _lose_first_answer(rt: Runtime, monkeypatch: pytest.MonkeyPatch, *methods: str) -> list[str]:
    """The first call of each method is done in Asana, then its answer is lost (a 504)."""
    lost: list[str] = []
    for name in methods:
        real = getattr(rt.asana, name)

        def lossy(*args: Any, _real: Any = real, _name: str = name, **kwargs: Any) -> Any:
            result = _real(*args, **kwargs)
            if _name not in lost:
                lost.append(_name)
                raise ServerError(504, "Gateway Timeout", "POST", f"/{_name}")
            return result

        monkeypatch.setattr(rt.asana, name, lossy)
    return lost


def _approved_first_standup(rt: Runtime) -> tuple[str, str, Task]:
    """Stand-up day 1 approved: (portfolio gid, Mobile's blockers project gid, the blocked task)."""
    blocked = _blocked_in_sprint(rt)
    done = _approve(rt, _standup(rt))
    assert done.status == "done", done.report
    (portfolio,) = _portfolios(rt)
    project = _items(rt, portfolio)["Blockers — Mobile"]
    return portfolio, project, blocked


def test_first_run_proposes_then_creates_once_even_when_answers_are_lost(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocked = _blocked_in_sprint(rt)
    before = _mutations(rt)
    out = _standup(rt)
    # Portfolio, team project, its place in the portfolio and the blocker task all wait for approval;
    # the stand-up's own auto writes (status update …) are already published.
    assert out.status == "awaiting_approval", out.report
    assert out.interrupt is not None
    waiting = [r["name"] for r in out.interrupt["action_requests"]]
    assert waiting == ["create_portfolio", "create_project", "add_to_portfolio", "create_task"]
    assert _portfolios(rt) == []
    assert not [p for p in rt.asana.projects(_ws(rt)) if (p.name or "").startswith("Blockers")]
    after_publish = _mutations(rt)
    assert after_publish["POST /portfolios"] == before["POST /portfolios"] == 0
    assert after_publish["POST /teams/{team_gid}/projects"] == 0

    # Approving: the answers to the portfolio's and the blocker task's creation are lost; each stop
    # is resumed, and the probe finds what was written instead of writing it again.
    lost = _lose_first_answer(rt, monkeypatch, "create_portfolio", "create_task")
    with pytest.raises(ApplyInterrupted):
        _approve(rt, out)
    record = find_proposal(rt, out.interrupt["proposal_id"])
    with pytest.raises(ServerError):
        resume(rt, record)
    final = resume(rt, record)
    assert final is not None and final.status == "done", final
    assert final.report is not None and final.report["status"] == "applied", final.report
    assert lost == ["create_portfolio", "create_task"]

    counts = _mutations(rt)
    assert counts["POST /portfolios"] == 1
    assert counts["POST /teams/{team_gid}/projects"] == 1
    assert counts["POST /portfolios/{portfolio_gid}/addItem"] == 1
    (portfolio,) = _portfolios(rt)
    items = _items(rt, portfolio)
    assert list(items) == ["Blockers — Mobile"]
    (task,) = _blocker_tasks(rt, items["Blockers — Mobile"], blocked.gid)
    detail = rt.asana.task(task.gid)
    assert detail.name == f"{blocked.name} — blocked since 2026-11-19"
    assert detail.assignee is not None and blocked.assignee is not None
    assert detail.assignee.gid == blocked.assignee.gid  # the blocked work's owner
    assert blocked.permalink_url and blocked.permalink_url in (detail.notes or "")
    assert "Blocked since: 2026-11-19" in (detail.notes or "") and "Status is Blocked" in (detail.notes or "")
    # The ledger says which writes were found in Asana rather than made again.
    entries = rt.journal.entries(out.interrupt["proposal_id"])  # type: ignore[attr-defined]
    recovered = {e.kind for e in entries if (e.result or {}).get("recovered")}
    assert recovered == {"create_portfolio", "create_task"}
    assert {e.kind: e.attempts for e in entries if e.kind in recovered} == {
        "create_portfolio": 2,
        "create_task": 2,
    }


def test_an_unchanged_second_run_proposes_nothing_for_blockers(rt: Runtime) -> None:
    portfolio, project, blocked = _approved_first_standup(rt)
    before = _mutations(rt)
    # The next day's stand-up, as the beat schedule starts it: only its automatic writes, nothing
    # waits, nothing about blockers is proposed.
    result = run_daily_standup(rt, "Sprint 23", now=lambda: DAY2)
    assert result.status == "applied", result.report
    proposal = _proposal(rt)
    assert _blocker_actions(proposal) == []
    rows = proposal.evidence["blockers_portfolio"]["rows"]
    assert [(r["state"], r["blocked_task"], r["since"], r["age_days"]) for r in rows] == [
        ("open", blocked.gid, "2026-11-19", 1)
    ]
    counts = _mutations(rt)
    for path in (
        "POST /portfolios",
        "POST /teams/{team_gid}/projects",
        "POST /portfolios/{portfolio_gid}/addItem",
    ):
        assert counts[path] == before[path]
    assert len(_blocker_tasks(rt, project, blocked.gid)) == 1


def test_a_cleared_blocker_completes_its_task_and_keeps_it(rt: Runtime) -> None:
    portfolio, project, blocked = _approved_first_standup(rt)
    sprint = rt.asana.find_project(_ws(rt), "Sprint 23")
    _set_status(rt, blocked.gid, sprint.gid, "In Progress")

    out = _standup(rt, now=DAY2)
    assert out.status == "awaiting_approval", out.report
    (action,) = _blocker_actions(_proposal(rt, out))
    (task,) = _blocker_tasks(rt, project, blocked.gid)
    assert action.kind == ActionKind.UPDATE_TASK and action.target == task.gid
    assert not rt.asana.task(task.gid).completed  # nothing written before approval
    assert _approve(rt, out).status == "done"
    kept = rt.asana.task(task.gid)
    assert kept.completed  # completed, not deleted: the history stays
    assert _items(rt, portfolio) == {"Blockers — Mobile": project}

    # Nothing left to do for the dependency manager either.
    again = _deps(rt, ["Sprint 23"], now=DAY2)
    assert _blocker_actions(_proposal(rt, again)) == []


def _other_team_sprint(rt: Runtime) -> tuple[str, str]:
    """Team "Payments" with an active sprint project holding one Blocked task: (project, task)."""
    assert rt.sandbox is not None
    store = rt.sandbox.store
    ws = _ws(rt)
    people = [u.gid for u in rt.asana.users(ws)]
    team = store.add_team(ws, "Payments", members=people)
    project = store.add_project(
        ws, "Payments Sprint 7", team=team.gid, start_on="2026-11-16", due_on="2026-11-27", members=people
    )
    section = store.add_section(project.gid, "In Progress")
    status = next(cf.gid for cf in store.custom_fields.values() if cf.name == "Status")
    store.add_field_setting(project.gid, status, is_important=True)
    task = store.add_task(
        ws,
        "Card refunds over the API",
        assignee=people[0],
        memberships=[(project.gid, section.gid)],
        custom_fields={status: "Blocked"},
    )
    return project.gid, task.gid


def test_a_blocker_of_another_team_lands_in_the_same_portfolio(rt: Runtime) -> None:
    portfolio, project, _ = _approved_first_standup(rt)
    payments, refunds = _other_team_sprint(rt)
    before = _mutations(rt)

    out = _standup(rt, project=payments)
    proposal = _proposal(rt, out)
    kinds = [a.kind for a in _blocker_actions(proposal)]
    # The portfolio exists: only the team's project, its place in the portfolio and the task.
    assert kinds == [ActionKind.CREATE_PROJECT, ActionKind.ADD_TO_PORTFOLIO, ActionKind.CREATE_TASK]
    assert _blocker_actions(proposal)[1].params["portfolio"] == portfolio
    # The title an approver sees first names these changes (it named only the stand-up's own).
    assert proposal.title.endswith("; Blockers portfolio: 3 change(s)"), proposal.title
    assert _approve(rt, out).status == "done"

    assert _mutations(rt)["POST /portfolios"] == before["POST /portfolios"]
    assert _portfolios(rt) == [portfolio]
    items = _items(rt, portfolio)
    assert set(items) == {"Blockers — Mobile", "Blockers — Payments"}
    assert items["Blockers — Mobile"] == project
    (task,) = _blocker_tasks(rt, items["Blockers — Payments"], refunds)
    assert task.name == "Card refunds over the API — blocked since 2026-11-19"


def test_the_dependency_manager_sees_the_same_state_and_never_duplicates(rt: Runtime) -> None:
    blocked = _blocked_in_sprint(rt)
    # Both agents propose before either is approved: the same portfolio, project and task, twice
    # (the second a day later, so even the task's name differs: only its key ties the two).
    first = _standup(rt)
    second = _deps(rt, ["Sprint 23"], now=DAY2)
    assert second.status == "awaiting_approval", second.report
    assert [a.kind for a in _blocker_actions(_proposal(rt, second))] == [
        ActionKind.CREATE_PORTFOLIO,
        ActionKind.CREATE_PROJECT,
        ActionKind.ADD_TO_PORTFOLIO,
        ActionKind.CREATE_TASK,
    ]
    assert _approve(rt, first).status == "done"
    # Approved later, the second finds each object by name or key and creates none of them again.
    assert _approve(rt, second).status == "done"
    counts = _mutations(rt)
    assert counts["POST /portfolios"] == 1
    assert counts["POST /teams/{team_gid}/projects"] == 1
    (portfolio,) = _portfolios(rt)
    project = _items(rt, portfolio)["Blockers — Mobile"]
    (task,) = _blocker_tasks(rt, project, blocked.gid)
    assert task.name == f"{blocked.name} — blocked since 2026-11-19"

    # A later scan of the same sprint proposes nothing about blockers.
    third = _deps(rt, ["Sprint 23"])
    assert _blocker_actions(_proposal(rt, third)) == []

    # A backlog task of the same team that becomes Blocked joins the same team project.
    backlog = rt.asana.find_project(_ws(rt), "Product Backlog")
    candidate = next(
        t for t in rt.asana.project_tasks(backlog.gid) if not t.completed and t.text("Status") != "Blocked"
    )
    _set_status(rt, candidate.gid, backlog.gid, "Blocked")
    fourth = _deps(rt, ["Product Backlog"])
    actions = _blocker_actions(_proposal(rt, fourth))
    # Only tasks into the team's existing project: no second portfolio or project, and none for
    # the sprint's blocker (also a backlog task) that already has its task.
    assert actions and {(a.kind, tuple(a.params["projects"])) for a in actions} == {
        (ActionKind.CREATE_TASK, (project,))
    }
    keys = {a.params["unique_key"] for a in actions}
    assert blocker_key(candidate.gid) in keys and blocker_key(blocked.gid) not in keys


def test_the_setting_names_the_portfolio_or_turns_it_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SPRINTPILOT_BLOCKERS_PORTFOLIO", "Impediments")
    named = load_settings(data_dir=tmp_path)
    assert named.approval_policy.to_policy_config(None).blockers_portfolio == "Impediments"
    monkeypatch.setenv("SPRINTPILOT_BLOCKERS_PORTFOLIO", "on")
    assert load_settings(data_dir=tmp_path).approval_policy.blockers_portfolio == "Blockers"
    monkeypatch.setenv("SPRINTPILOT_BLOCKERS_PORTFOLIO", "off")
    assert load_settings(data_dir=tmp_path).approval_policy.to_policy_config(None).blockers_portfolio is None
    # On by default, under its default name (nothing is created before someone approves).
    monkeypatch.delenv("SPRINTPILOT_BLOCKERS_PORTFOLIO")
    assert (
        load_settings(data_dir=tmp_path).approval_policy.to_policy_config(None).blockers_portfolio
        == "Blockers"
    )


def test_on_by_default_the_first_blocker_waits_for_approval(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no setting the product keeps the portfolio: the day's stand-up proposes it with the
    sprint's blocker and waits for a person; nothing exists in Asana until then."""
    monkeypatch.delenv("SPRINTPILOT_BLOCKERS_PORTFOLIO", raising=False)
    settings = load_settings(data_dir=tmp_path, asana_base_url=None, model="offline")
    with open_runtime(
        settings, registry=SpecialistRegistry([planner_specialist(), standup_specialist()])
    ) as runtime:
        out = _standup(runtime)
        assert out.status == "awaiting_approval", out.report
        kinds = {a.kind for a in _blocker_actions(_proposal(runtime, out))}
        assert {ActionKind.CREATE_PORTFOLIO, ActionKind.CREATE_TASK} <= kinds
        assert _portfolios(runtime) == []
        _approve(runtime, out)
        assert len(_portfolios(runtime)) == 1


def test_turned_off_the_standup_is_unchanged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPRINTPILOT_BLOCKERS_PORTFOLIO", "off")
    settings = load_settings(data_dir=tmp_path, asana_base_url=None, model="offline")
    with open_runtime(
        settings, registry=SpecialistRegistry([planner_specialist(), standup_specialist()])
    ) as rt:
        out = _standup(rt)
        assert out.status == "done", out.report
        proposal = _proposal(rt, out)
        assert _blocker_actions(proposal) == [] and "blockers_portfolio" not in proposal.evidence
        assert date.fromisoformat(proposal.evidence["date"]) == NOW.date()


def test_the_new_kinds_are_checked_like_every_other(rt: Runtime) -> None:
    """add_to_portfolio's portfolio must be a portfolio (existing and in scope, or one this proposal
    creates); create_task's unique_key must be in its notes and needs a project to look in."""
    from agents.proposal import ApprovalClass, Scope
    from graphs.policy import evaluate
    from graphs.policy_config import PolicyConfig

    ws = _ws(rt)
    sprint = rt.asana.find_project(ws, "Sprint 23").gid

    def classes(actions: list[Action]) -> list[tuple[ApprovalClass, str]]:
        proposal = Proposal(
            agent="t", scope=Scope(workspace_gid=ws), title="t", summary_markdown="", actions=actions
        )
        return [
            (v.approval_class, v.note)
            for v in evaluate(proposal, PolicyConfig(), rt.context().scope_checker())
        ]

    make = Action(
        kind=ActionKind.CREATE_PORTFOLIO, params={"name": "Blockers", "workspace_gid": ws}, ref="pf"
    )
    made = classes(
        [make, Action(kind=ActionKind.ADD_TO_PORTFOLIO, target=sprint, params={"portfolio": "ref:pf"})]
    )
    assert [c for c, _ in made] == [ApprovalClass.NEEDS_APPROVAL, ApprovalClass.NEEDS_APPROVAL]

    project_ref = Action(
        kind=ActionKind.CREATE_PROJECT, params={"name": "X", "workspace_gid": ws}, ref="proj"
    )
    wrong = classes(
        [
            project_ref,
            Action(kind=ActionKind.ADD_TO_PORTFOLIO, target=sprint, params={"portfolio": "ref:proj"}),
        ]
    )
    assert wrong[1][0] == ApprovalClass.DENIED and "a portfolio is needed" in wrong[1][1]

    missing = classes(
        [Action(kind=ActionKind.ADD_TO_PORTFOLIO, target=sprint, params={"portfolio": "999999"})]
    )
    assert missing[0][0] == ApprovalClass.DENIED and "out of scope" in missing[0][1]

    other_ws = classes(
        [Action(kind=ActionKind.CREATE_PORTFOLIO, params={"name": "B", "workspace_gid": "42"})]
    )
    assert other_ws[0][0] == ApprovalClass.DENIED

    keyless = classes(
        [
            Action(
                kind=ActionKind.CREATE_TASK,
                params={"name": "t", "projects": [sprint], "notes": "no key", "unique_key": blocker_key("1")},
            )
        ]
    )
    assert keyless[0][0] == ApprovalClass.DENIED and "unique_key" in keyless[0][1]


def test_through_the_chat_an_approver_sees_and_approves_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same path from the chat, acting for an Asana user: the team's blockers project is one
    she can see, so the next run (the dependency manager's) reads it and proposes nothing again."""
    from service.chat_runtime import chat_session

    for var in ("SPRINTPILOT_ASANA_BASE_URL", "SPRINTPILOT_DATABASE_URL", "SPRINTPILOT_MODEL"):
        monkeypatch.delenv(var, raising=False)
    priya = "priya.brooks@acme.example"  # the seeded scrum master
    settings = load_settings(
        data_dir=tmp_path, asana_base_url=None, model="offline", approvers=[priya], blockers_portfolio="on"
    )
    registry = SpecialistRegistry([planner_specialist(), standup_specialist(), dependencies_specialist()])
    with open_runtime(settings, registry=registry) as rt:
        context = rt.context
        rt.context = lambda **kw: context(**{"now": lambda: DAY2, **kw})  # type: ignore[method-assign]
        blocked = _blocked_in_sprint(rt)
        session = chat_session(rt, "t-blockers", priya)
        list(session.send("standup Sprint 23"))
        request = session.pending()
        assert request is not None
        # The chat asks once for the whole proposal; its description lists each action.
        described = " ".join(str(r.get("description")) for r in request["action_requests"])
        for kind in ("create_portfolio", "create_project", "add_to_portfolio", "create_task"):
            assert kind in described, described
        list(session.send("approve"))
        assert session.pending() is None
        (portfolio,) = _portfolios(rt)
        project = _items(rt, portfolio)["Blockers — Mobile"]
        (task,) = _blocker_tasks(rt, project, blocked.gid)
        assert task.name == f"{blocked.name} — blocked since 2026-11-20"

        list(chat_session(rt, "t-blockers-deps", priya).send("deps Sprint 23"))
        latest = _proposal(rt)
        assert latest.agent == "dependencies"
        assert _blocker_actions(latest) == []
        assert latest.evidence["blockers_portfolio"]["rows"][0]["state"] == "open"
