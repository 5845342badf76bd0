"""The workspace contract the agents rely on: names, fields, sections, backlog shape, DAG."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import networkx as nx
import pytest

from sandbox.generator import GeneratedWorkspace, generate_workspace

FIELDS = {
    "Story Points": ("number", 0),
    "Priority": ("enum", None),
    "Business Value": ("number", None),
    "Effort": ("number", None),
    "Sprint": ("text", None),
    "Status": ("enum", None),
    "AI Priority Score": ("number", 1),
    "Estimated Story Points": ("number", None),
    "Risk Score": ("number", 0),
    "AI Suggestion": ("text", None),
    "Impediments": ("text", None),
}
SKILLS = {"backend", "frontend", "mobile", "data", "devops", "design", "qa"}


def _names(ws: GeneratedWorkspace, gids: list[str]) -> list[str]:
    return [ws.store.get_typed(g, "section").name for g in gids]


def test_workspace_team_people_and_bot(ws: GeneratedWorkspace) -> None:
    store = ws.store
    workspace = store.workspaces[ws.workspace_gid]
    assert workspace.name == "Acme Product" and workspace.is_organization
    team = store.teams[ws.team_gid]
    assert team.name == "Mobile" and team.workspace == ws.workspace_gid
    people = [store.users[g] for g in team.members]
    assert 6 <= len(people) <= 10
    assert all(p.name and "@" in p.email for p in people)
    assert len({p.email for p in people}) == len(people)
    bot = store.user_for_token(ws.token)
    assert bot is not None and bot.name == "sprintpilot"
    assert bot.gid in workspace.members and all(p.gid in workspace.members for p in people)
    assert bot.gid not in team.members


def test_custom_fields_have_contract_names_types_and_options(ws: GeneratedWorkspace) -> None:
    store = ws.store
    by_name = {cf.name: cf for cf in store.custom_fields.values() if cf.workspace == ws.workspace_gid}
    assert set(by_name) == set(FIELDS) | {"Health"}
    assert (by_name["Health"].resource_subtype, by_name["Health"].precision) == ("number", 1)
    for name, (subtype, precision) in FIELDS.items():
        assert by_name[name].resource_subtype == subtype, name
        if precision is not None:
            assert by_name[name].precision == precision, name
    options = {
        n: [store.enum_options[g].name for g in by_name[n].enum_options] for n in ("Priority", "Status")
    }
    assert options["Priority"] == ["Critical", "High", "Medium", "Low"]
    assert options["Status"] == ["Not Started", "In Progress", "Blocked", "Ready for Review", "Done"]


def test_projects_sections_and_field_settings(ws: GeneratedWorkspace) -> None:
    store = ws.store
    backlog = store.projects[ws.backlog_project_gid]
    assert backlog.name == "Product Backlog"
    assert backlog.owner == ws.scrum_master_gid
    assert _names(ws, backlog.sections) == [
        "Icebox",
        "Backlog",
        "Ready",
        "In Progress",
        "Ready for Review",
        "Done",
    ]
    assert store.projects[ws.process_project_gid].name == "Process Improvement"
    assert len(ws.sprint_project_gids) >= 6
    for gid in [ws.backlog_project_gid, *ws.sprint_project_gids]:
        project = store.projects[gid]
        attached = {
            store.custom_fields[store.field_settings[s].custom_field].name
            for s in project.custom_field_settings
        }
        assert attached == set(FIELDS), project.name
    portfolio = store.portfolios[ws.portfolio_gid]
    assert portfolio.name == "Mobile Portfolio"
    assert set(portfolio.items) == {ws.backlog_project_gid, *ws.sprint_project_gids}
    # The portfolio's only field, a column of its projects; no project holds a value yet.
    on_portfolio = [store.field_settings[s].custom_field for s in portfolio.custom_field_settings]
    assert [store.custom_fields[g].name for g in on_portfolio] == ["Health"]
    assert on_portfolio == [ws.field_gids["Health"]]
    assert all(not store.projects[g].custom_fields for g in portfolio.items)


def test_sprint_projects_are_consecutive_two_week_windows_before_the_anchor(ws: GeneratedWorkspace) -> None:
    sprints = [ws.store.projects[g] for g in ws.sprint_project_gids]
    assert [p.name for p in sprints] == [f"Sprint {n}" for n in range(18, 24)]
    starts = [date.fromisoformat(p.start_on or "") for p in sprints]
    dues = [date.fromisoformat(p.due_on or "") for p in sprints]
    for i, (start, due) in enumerate(zip(starts, dues, strict=True)):
        assert start.weekday() == 0 and due.weekday() == 4
        assert due - start == timedelta(days=11)
        if i:
            assert start - starts[i - 1] == timedelta(days=14)
    assert dues[-1] < ws.anchor and ws.anchor - starts[-1] == timedelta(days=14)
    for p in sprints:
        assert _names(ws, p.sections) == ["To Do", "In Progress", "Done"]


def test_open_backlog_shape(ws: GeneratedWorkspace, view: Any) -> None:
    open_items = view.open_backlog()
    assert len(open_items) == 150
    points = [view.value(t, "Story Points") for t in open_items]
    unpointed = sum(p is None for p in points) / len(points)
    assert 0.05 <= unpointed <= 0.12
    assert {p for p in points if p is not None} <= {1, 2, 3, 5, 8, 13}
    for t in open_items:
        assert 1 <= view.value(t, "Business Value") <= 100
        assert 1 <= view.value(t, "Effort") <= 10
        assert view.value(t, "Priority") in {"Critical", "High", "Medium", "Low"}
        assert view.value(t, "Status") in {"Not Started", "In Progress", "Blocked", "Ready for Review"}
        tags = view.tag_names(t)
        assert len(tags) == 1 and tags[0] in SKILLS
    statuses = [view.value(t, "Status") for t in open_items]
    assert 3 <= statuses.count("Blocked") <= 25
    with_criteria = [t for t in open_items if "Acceptance criteria:\n- " in t.notes]
    assert len(with_criteria) >= 0.4 * len(open_items)
    assert len({t.name for t in open_items}) == len(open_items)
    # Every skill area appears in the backlog.
    assert {view.tag_names(t)[0] for t in open_items} == SKILLS


def test_effort_tracks_story_points(view: Any) -> None:
    tasks = view.tasks(view.ws.backlog_project_gid)
    pairs = [(view.value(t, "Story Points"), view.value(t, "Effort")) for t in tasks]
    small = [e for p, e in pairs if p in (1, 2)]
    large = [e for p, e in pairs if p in (8, 13)]
    assert max(small) < min(large)


def test_completed_sprint_work_is_also_in_the_backlog_done_section(ws: GeneratedWorkspace, view: Any) -> None:
    done = [t for t in view.tasks(ws.backlog_project_gid) if t.completed]
    assert len(done) >= 6 * 6
    assert all(view.section(t, ws.backlog_project_gid) == "Done" for t in done)
    assert all(any(m["project"] in ws.sprint_project_gids for m in t.memberships) for t in done)


def _graph(ws: GeneratedWorkspace) -> nx.DiGraph:
    graph = nx.DiGraph()
    for task in ws.store.tasks.values():
        graph.add_node(task.gid)
        for dep in task.dependencies:
            graph.add_edge(task.gid, dep)
    return graph


@pytest.mark.parametrize("seed", [7, 8, 21])
def test_dependencies_form_a_capped_dag(seed: int) -> None:
    ws = generate_workspace(seed)
    graph = _graph(ws)
    assert nx.is_directed_acyclic_graph(graph)
    for task in ws.store.tasks.values():
        assert len(task.dependencies) + len(task.dependents) <= 30
        for dep in task.dependencies:
            assert task.gid in ws.store.tasks[dep].dependents
    assert graph.number_of_edges() >= 30


def test_open_items_depend_on_open_and_on_completed_items(ws: GeneratedWorkspace, view: Any) -> None:
    store = ws.store
    open_items = view.open_backlog()
    onto_done = [t for t in open_items if any(store.tasks[d].completed for d in t.dependencies)]
    onto_open = [t for t in open_items if any(not store.tasks[d].completed for d in t.dependencies)]
    assert len(onto_done) >= 5 and len(onto_open) >= 5
    blocked = [t for t in open_items if view.value(t, "Status") == "Blocked"]
    blocked_comments = [
        s
        for t in blocked
        for s in store.stories_for(t.gid)
        if s.type == "comment" and s.text.startswith("Blocked")
    ]
    assert len(blocked_comments) >= len(blocked) // 2


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5, 6])
def test_team_size_and_skill_coverage_hold_for_other_seeds(seed: int) -> None:
    ws = generate_workspace(seed, backlog_size=40)
    plan = ws.plan
    assert plan is not None
    assert 6 <= len(plan.people) <= 10
    assert all(1 <= len(p.skills) <= 3 for p in plan.people)
    assert {s for p in plan.people for s in p.skills} == SKILLS
    assert len(plan.open_items) == 40


def test_backlog_size_and_sprint_count_are_configurable() -> None:
    ws = generate_workspace(9, backlog_size=60, past_sprints=8)
    names = [ws.store.projects[g].name for g in ws.sprint_project_gids]
    assert names == [f"Sprint {n}" for n in range(16, 24)]
    open_items = [
        t
        for t in ws.store.tasks.values()
        if not t.completed and any(m["project"] == ws.backlog_project_gid for m in t.memberships)
    ]
    assert len(open_items) == 60
