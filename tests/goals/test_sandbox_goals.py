"""The sandbox's Asana Goals (asana_oas.yaml "Goals", "Goal relationships") over HTTP and the SDK:
CRUD, metrics and the progress Asana computes, supporting relationships, privacy, the free plan."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import asana
import httpx
import pytest

from sandbox import goals as G
from sandbox.server import SandboxServer
from sandbox.store import Store
from tests.sandbox.conftest import OTHER_TOKEN, Mini, make_sdk

pytestmark = pytest.mark.integration

MANUAL = {"progress_source": "manual", "unit": "none", "initial_number_value": 0, "target_number_value": 40}


def _data(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()["data"]


def _goal(http: httpx.Client, mini: Mini, name: str = "Grow retention", **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = _data(
        http.post("/goals", json={"data": {"workspace": mini.ws, "name": name, **extra}}), 201
    )
    return data


def test_goal_crud(http: httpx.Client, mini: Mini, server: SandboxServer) -> None:
    created = http.post(
        "/goals",
        json={"data": {"workspace": mini.ws, "name": "Ship v2", "due_on": "2026-12-31", "owner": "me"}},
    )
    goal = _data(created, 201)
    assert created.headers["Location"].endswith(f"/api/1.0/goals/{goal['gid']}")
    assert goal["resource_type"] == "goal" and goal["metric"] is None and goal["status"] is None
    assert goal["owner"]["gid"] == mini.users["bot"] and goal["privacy_setting"] == "public_to_workspace"
    assert [f["gid"] for f in goal["followers"]] == [mini.users["bot"]]  # the creator is a member
    assert http.post("/goals", json={"data": {"name": "no workspace"}}).status_code == 400
    assert http.post("/goals", json={"data": {"workspace": mini.ws}}).status_code == 400
    assert (
        http.post(
            "/goals", json={"data": {"workspace": mini.ws, "name": "x", "start_on": "2026-12-01"}}
        ).status_code
        == 400
    )

    listed = _data(http.get("/goals", params={"workspace": mini.ws}))
    assert listed == [
        {"gid": goal["gid"], "resource_type": "goal", "name": "Ship v2", "owner": goal["owner"]}
    ]
    assert http.get("/goals").status_code == 400  # no workspace, team or supporting resource

    # status is writable once there is a metric (GoalUpdateRequest.status).
    assert http.put(f"/goals/{goal['gid']}", json={"data": {"status": "green"}}).status_code == 400
    _data(http.post(f"/goals/{goal['gid']}/setMetric", json={"data": MANUAL}))
    updated = _data(
        http.put(f"/goals/{goal['gid']}", json={"data": {"status": "yellow", "name": "Ship v2.0"}})
    )
    assert (updated["status"], updated["name"]) == ("yellow", "Ship v2.0")
    assert http.put(f"/goals/{goal['gid']}", json={"data": {"status": "purple"}}).status_code == 400

    assert _data(http.delete(f"/goals/{goal['gid']}")) == {}
    assert http.get(f"/goals/{goal['gid']}").status_code == 404


def test_metric_manual_value_and_progress_computed_from_projects(http: httpx.Client, mini: Mini) -> None:
    manual = _goal(http, mini, "Cut churn")
    same = {**MANUAL, "target_number_value": 0}
    assert http.post(f"/goals/{manual['gid']}/setMetric", json={"data": same}).status_code == 400
    bad = {**MANUAL, "progress_source": "vibes"}
    assert http.post(f"/goals/{manual['gid']}/setMetric", json={"data": bad}).status_code == 400
    metric = _data(http.post(f"/goals/{manual['gid']}/setMetric", json={"data": MANUAL}))["metric"]
    assert (metric["progress_source"], metric["target_number_value"], metric["current_number_value"]) == (
        "manual",
        40,
        0,
    )
    path = f"/goals/{manual['gid']}/setMetricCurrentValue"
    assert (
        _data(http.post(path, json={"data": {"current_number_value": 12}}))["metric"]["current_number_value"]
        == 12
    )
    assert http.post(path, json={"data": {}}).status_code == 400

    # project_task_completion: the share of completed tasks of the supporting projects.
    auto = _goal(http, mini, "Backlog burned down")
    source = {"progress_source": "project_task_completion"}
    assert (
        _data(http.post(f"/goals/{auto['gid']}/setMetric", json={"data": source}))["metric"]["unit"]
        == "percentage"
    )
    link = {"supporting_resource": mini.project}
    _data(http.post(f"/goals/{auto['gid']}/addSupportingRelationship", json={"data": link}))
    tasks = mini.store.project_tasks(mini.project)
    mini.store.tasks[tasks[0]].completed = True
    mini.store.tasks[tasks[1]].completed = True
    read = _data(http.get(f"/goals/{auto['gid']}"))["metric"]
    assert read["current_number_value"] == pytest.approx(2 / len(tasks))
    assert (
        http.post(
            f"/goals/{auto['gid']}/setMetricCurrentValue", json={"data": {"current_number_value": 1}}
        ).status_code
        == 400
    )


def test_supporting_relationships(http: httpx.Client, mini: Mini) -> None:
    parent, child = _goal(http, mini, "Company goal"), _goal(http, mini, "Team goal")
    add = f"/goals/{parent['gid']}/addSupportingRelationship"
    rel = _data(
        http.post(add, json={"data": {"supporting_resource": mini.project, "contribution_weight": 0.5}})
    )
    assert rel["resource_subtype"] == "supporting_work" and rel["contribution_weight"] == 0.5
    assert rel["supporting_resource"] == {
        "gid": mini.project,
        "name": "Product Backlog",
        "resource_type": "project",
    }
    assert rel["supported_goal"]["gid"] == parent["gid"]
    # Adding it again keeps one relationship.
    again = _data(http.post(add, json={"data": {"supporting_resource": mini.project}}))
    assert again["gid"] == rel["gid"]
    sub = _data(http.post(add, json={"data": {"supporting_resource": child["gid"]}}))
    assert sub["resource_subtype"] == "subgoal"
    assert http.post(add, json={"data": {}}).status_code == 400
    assert http.post(add, json={"data": {"supporting_resource": mini.other_task}}).status_code in (400, 403)
    assert (
        http.post(
            add, json={"data": {"supporting_resource": mini.project, "contribution_weight": 2}}
        ).status_code
        == 400
    )
    # No loops: the parent cannot support its own subgoal.
    loop = {"supporting_resource": parent["gid"]}
    assert (
        http.post(f"/goals/{child['gid']}/addSupportingRelationship", json={"data": loop}).status_code == 400
    )

    listed = _data(http.get("/goal_relationships", params={"supported_goal": parent["gid"]}))
    assert [r["gid"] for r in listed] == [rel["gid"], sub["gid"]]
    assert set(listed[0]) == {
        "gid",
        "resource_type",
        "resource_subtype",
        "supporting_resource",
        "contribution_weight",
    }
    only = _data(
        http.get(
            "/goal_relationships", params={"supported_goal": parent["gid"], "resource_subtype": "subgoal"}
        )
    )
    assert [r["gid"] for r in only] == [sub["gid"]]
    assert http.get("/goal_relationships").status_code == 400
    assert [g["gid"] for g in _data(http.get(f"/goals/{child['gid']}/parentGoals"))] == [parent["gid"]]
    assert [g["gid"] for g in _data(http.get("/goals", params={"project": mini.project}))] == [parent["gid"]]
    weighted = _data(http.put(f"/goal_relationships/{rel['gid']}", json={"data": {"contribution_weight": 1}}))
    assert weighted["contribution_weight"] == 1

    remove = f"/goals/{parent['gid']}/removeSupportingRelationship"
    assert _data(http.post(remove, json={"data": {"supporting_resource": mini.project}})) == {}
    assert _data(http.get("/goals", params={"project": mini.project})) == []
    assert http.get(f"/goal_relationships/{rel['gid']}").status_code == 404


def test_a_members_only_goal_is_unknown_to_others(
    server: SandboxServer, mini: Mini, http: httpx.Client
) -> None:
    secret = G.add_goal(
        mini.store, mini.ws, "Acquisition", privacy_setting="members_only", owner=mini.users["ana"]
    )
    public = G.add_goal(mini.store, mini.ws, "Quality")
    assert http.get(f"/goals/{secret.gid}").status_code == 404  # the bot is no member
    assert [g["gid"] for g in _data(http.get("/goals", params={"workspace": mini.ws}))] == [public.gid]
    assert http.get("/goal_relationships", params={"supported_goal": secret.gid}).status_code == 404
    secret.followers.append(mini.users["bot"])
    assert _data(http.get(f"/goals/{secret.gid}"))["name"] == "Acquisition"
    # Another workspace's user: 403 like any object outside their workspaces.
    outsider = httpx.get(
        f"{server.base_url}/goals/{public.gid}", headers={"Authorization": f"Bearer {OTHER_TOKEN}"}
    )
    assert outsider.status_code == 403


def test_the_sdk_reads_goals_and_a_free_plan_answers_402(server: SandboxServer, mini: Mini) -> None:
    goal = G.add_goal(mini.store, mini.ws, "Quality", metric=MANUAL)
    G.add_supporting(mini.store, goal.gid, mini.project, contribution_weight=1)
    client = make_sdk(server.base_url, server.token)
    got = asana.GoalsApi(client).get_goal(goal.gid, {"opt_fields": "name,metric.target_number_value"})
    assert got == {"gid": goal.gid, "name": "Quality", "metric": {"target_number_value": 40.0}}
    rels = list(asana.GoalRelationshipsApi(client).get_goal_relationships(goal.gid, {}))
    assert [r["supporting_resource"]["gid"] for r in rels] == [mini.project]
    reply = httpx.put(
        f"{server.root_url}/__sandbox/plan",
        json={"plan": "free"},
        headers={"Authorization": f"Bearer {server.token}"},
    )
    assert reply.status_code == 200
    with pytest.raises(asana.rest.ApiException) as err:
        asana.GoalsApi(client).get_goal(goal.gid, {})
    assert err.value.status == 402


def test_goals_survive_save_and_load(tmp_path: Path, mini: Mini) -> None:
    goal = G.add_goal(mini.store, mini.ws, "Quality", metric={"progress_source": "project_task_completion"})
    rel = G.add_supporting(mini.store, goal.gid, mini.project)
    mini.store.save(tmp_path / "s.json")
    loaded = Store.load(tmp_path / "s.json")
    assert G.goals(loaded)[goal.gid] == goal and G.relationships(loaded)[rel.gid] == rel
