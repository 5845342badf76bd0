"""Reads through the unmodified asana SDK and raw HTTP: pagination, opt_fields, compact forms."""

from __future__ import annotations

import asana
import httpx
import pytest

from sandbox.server import SandboxServer

pytestmark = pytest.mark.integration


@pytest.fixture
def big_project(server: SandboxServer) -> str:
    store = server.store
    ws = next(iter(store.workspaces))
    project = store.add_project(ws, "Big").gid
    for i in range(253):
        store.add_task(ws, f"Item {i:03d}", projects=[project])
    return project


def test_sdk_auto_paginates_all_tasks(sdk: asana.ApiClient, big_project: str) -> None:
    items = list(asana.TasksApi(sdk).get_tasks_for_project(big_project, {"opt_fields": "name"}))
    assert [t["name"] for t in items] == [f"Item {i:03d}" for i in range(253)]
    assert all(set(t) == {"gid", "name"} for t in items)


def test_raw_pages_and_next_page_null_at_end(http: httpx.Client, big_project: str) -> None:
    pages, offset = [], None
    while True:
        params = {"limit": 100, **({"offset": offset} if offset else {})}
        body = http.get(f"/projects/{big_project}/tasks", params=params).json()
        pages.append(len(body["data"]))
        if body["next_page"] is None:
            break
        assert body["next_page"]["uri"].endswith(body["next_page"]["path"])
        assert body["next_page"]["path"].startswith(f"/projects/{big_project}/tasks?")
        offset = body["next_page"]["offset"]
    assert pages == [100, 100, 53]


@pytest.mark.parametrize("limit", ["0", "101", "abc"])
def test_limit_out_of_range_is_400(http: httpx.Client, big_project: str, limit: str) -> None:
    response = http.get(f"/projects/{big_project}/tasks", params={"limit": limit})
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"].startswith("limit")


def test_garbage_offset_is_400(http: httpx.Client, big_project: str) -> None:
    response = http.get(f"/projects/{big_project}/tasks", params={"limit": 10, "offset": "eyJnope"})
    assert response.status_code == 400


def test_compact_default_for_lists_and_full_for_get(sdk: asana.ApiClient, mini) -> None:  # type: ignore[no-untyped-def]
    tasks = asana.TasksApi(sdk)
    listed = list(tasks.get_tasks_for_project(mini.project, {}))
    assert set(listed[0]) == {"gid", "name", "resource_type", "resource_subtype"}
    assert listed[0]["resource_type"] == "task"
    full = tasks.get_task(listed[0]["gid"], {})
    for key in ("notes", "completed", "memberships", "custom_fields", "modified_at", "assignee", "workspace"):
        assert key in full
    assert "dependencies" not in full  # opt-in only, as in Asana


def test_opt_fields_dotted_paths(sdk: asana.ApiClient, mini) -> None:  # type: ignore[no-untyped-def]
    fields = (
        "name,custom_fields.name,custom_fields.display_value,memberships.section.name,dependencies,"
        "assignee.name,this.notes,memberships.project.name"
    )
    task = next(iter(asana.TasksApi(sdk).get_tasks_for_project(mini.project, {"opt_fields": fields})))
    assert set(task) == {"gid", "name", "custom_fields", "memberships", "dependencies", "assignee", "notes"}
    points = next(cf for cf in task["custom_fields"] if cf["name"] == "Story Points")
    assert points == {"gid": mini.fields["points"], "name": "Story Points", "display_value": "3"}
    assert task["memberships"] == [
        {
            "section": {"gid": mini.sections["Backlog"], "name": "Backlog"},
            "project": {"gid": mini.project, "name": "Product Backlog"},
        }
    ]
    # A nested resource named without sub-fields comes back as {gid, resource_type}.
    single = asana.TasksApi(sdk).get_task(task["gid"], {"opt_fields": "workspace"})
    assert single == {"gid": task["gid"], "workspace": {"gid": mini.ws, "resource_type": "workspace"}}


def test_users_me_workspaces_teams_and_settings(sdk: asana.ApiClient, mini) -> None:  # type: ignore[no-untyped-def]
    me = asana.UsersApi(sdk).get_user("me", {})
    assert me["gid"] == mini.users["bot"] and me["name"] == "sprintpilot"
    workspaces = list(asana.WorkspacesApi(sdk).get_workspaces({}))
    assert [w["gid"] for w in workspaces] == [mini.ws]  # never the other tenant's workspace
    users = list(asana.UsersApi(sdk).get_users_for_workspace(mini.ws, {"opt_fields": "name,email"}))
    assert {u["email"] for u in users} == {"bot@acme.test", "ana@acme.test", "ben@acme.test"}
    settings = list(
        asana.CustomFieldSettingsApi(sdk).get_custom_field_settings_for_project(
            mini.project,
            {"opt_fields": "custom_field.name,custom_field.resource_subtype,custom_field.enum_options.name"},
        )
    )
    by_name = {s["custom_field"]["name"]: s["custom_field"] for s in settings}
    assert by_name["Priority"]["enum_options"][0]["name"] == "High"
    assert "Unused" not in by_name
    counts = asana.ProjectsApi(sdk).get_task_counts_for_project(mini.project, {"opt_fields": "num_tasks"})
    assert counts == {"num_tasks": 5}


def test_get_tasks_filters_and_missing_filter(http: httpx.Client, mini) -> None:  # type: ignore[no-untyped-def]
    assert len(http.get("/tasks", params={"project": mini.project}).json()["data"]) == 5
    assert len(http.get("/tasks", params={"section": mini.sections["Done"]}).json()["data"]) == 0
    assert http.get("/tasks").status_code == 400
    mine = http.get("/tasks", params={"assignee": "me", "workspace": mini.ws}).json()["data"]
    assert mine == []
