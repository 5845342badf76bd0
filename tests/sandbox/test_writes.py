"""Writes through the SDK: creates, custom fields, dependencies, sections, stories, approvals."""

from __future__ import annotations

import json

import asana
import httpx
import pytest
from asana.rest import ApiException

pytestmark = pytest.mark.integration


def _error(exc: pytest.ExceptionInfo[ApiException]) -> str:
    return str(json.loads(exc.value.body)["errors"][0]["message"])


def _new_task(sdk: asana.ApiClient, mini, name: str = "New") -> dict:  # type: ignore[no-untyped-def,type-arg]
    return asana.TasksApi(sdk).create_task({"data": {"name": name, "projects": [mini.project]}}, {})


def test_create_returns_201_with_location(http: httpx.Client, mini) -> None:  # type: ignore[no-untyped-def]
    response = http.post("/tasks", json={"data": {"name": "Raw", "projects": [mini.project]}})
    assert response.status_code == 201
    data = response.json()["data"]
    assert response.headers["Location"].endswith(f"/tasks/{data['gid']}")
    assert data["memberships"][0]["section"]["name"] == "Backlog"  # first section by default
    assert http.post("/tasks", json={"data": {"name": "Nowhere"}}).status_code == 400  # needs workspace


def test_custom_field_writes_and_display_values(sdk: asana.ApiClient, mini) -> None:  # type: ignore[no-untyped-def]
    task = _new_task(sdk, mini)
    f, o = mini.fields, mini.options
    body = {
        "data": {
            "custom_fields": {
                f["points"]: 5.4,
                f["score"]: 7.25,
                f["priority"]: o["High"],
                f["skills"]: [o["ios"], o["api"]],
                f["sprint"]: "Sprint 23",
                f["target"]: {"date": "2026-12-04"},
                f["reviewers"]: [mini.users["ana"]],
            }
        }
    }
    updated = asana.TasksApi(sdk).update_task(
        body,
        task["gid"],
        {
            "opt_fields": "custom_fields.name,custom_fields.display_value,custom_fields.number_value,"
            "custom_fields.enum_value.name,custom_fields.date_value"
        },
    )
    values = {cf["name"]: cf for cf in updated["custom_fields"]}
    assert values["Story Points"]["number_value"] == 5 and values["Story Points"]["display_value"] == "5"
    assert values["AI Priority Score"]["display_value"] == "7.2"  # precision 1 rounding
    assert (
        values["Priority"]["enum_value"]["name"] == "High" and values["Priority"]["display_value"] == "High"
    )
    assert values["Skills"]["display_value"] == "ios, api"
    assert values["Sprint"]["display_value"] == "Sprint 23"
    assert values["Target"]["date_value"] == {"date": "2026-12-04", "date_time": None}
    assert values["Reviewers"]["display_value"] == "Ana Lima"
    cleared = asana.TasksApi(sdk).update_task(
        {"data": {"custom_fields": {f["priority"]: None}}},
        task["gid"],
        {"opt_fields": "custom_fields.display_value,custom_fields.name"},
    )
    assert next(c for c in cleared["custom_fields"] if c["name"] == "Priority")["display_value"] is None


@pytest.mark.parametrize(
    ("key", "value", "fragment"),
    [
        ("points", "five", "must be a number"),
        ("points", True, "must be a number"),
        ("sprint", 23, "must be a string"),
        ("priority", 1, "enum option gid"),
        ("skills", "ios", "list of enum option gids"),
        ("target", "2026-12-04", "Date custom field"),
        ("reviewers", 42, "list of user gids"),
    ],
)
def test_wrong_custom_field_types_are_400(
    sdk: asana.ApiClient,
    mini,
    key: str,
    value: object,  # type: ignore[no-untyped-def]
    fragment: str,
) -> None:
    task = _new_task(sdk, mini)
    with pytest.raises(ApiException) as exc:
        asana.TasksApi(sdk).update_task(
            {"data": {"custom_fields": {mini.fields[key]: value}}}, task["gid"], {}
        )
    assert exc.value.status == 400
    assert fragment.lower() in _error(exc).lower()


def test_enum_option_of_another_field_unknown_and_foreign_fields(sdk: asana.ApiClient, mini) -> None:  # type: ignore[no-untyped-def]
    task = _new_task(sdk, mini)
    tasks = asana.TasksApi(sdk)
    for values in (
        {mini.fields["priority"]: mini.options["Done"]},  # option of "Status"
        {"999999": "x"},  # unknown field
        {mini.fields["unused"]: "x"},
    ):  # not on any of the task's projects
        with pytest.raises(ApiException) as exc:
            tasks.update_task({"data": {"custom_fields": values}}, task["gid"], {})
        assert exc.value.status == 400
    # Nothing was applied by the rejected writes.
    assert mini.store.tasks[task["gid"]].custom_fields == {}


def test_dependencies_cap_self_link_and_cycle(sdk: asana.ApiClient, mini) -> None:  # type: ignore[no-untyped-def]
    tasks = asana.TasksApi(sdk)
    hub = _new_task(sdk, mini, "hub")["gid"]
    blockers = [mini.store.add_task(mini.ws, f"b{i}", projects=[mini.project]).gid for i in range(31)]
    tasks.add_dependencies_for_task({"data": {"dependencies": blockers[:30]}}, hub)
    deps = list(tasks.get_dependencies_for_task(hub, {"opt_fields": "name"}))
    assert len(deps) == 30
    with pytest.raises(ApiException) as exc:
        tasks.add_dependencies_for_task({"data": {"dependencies": [blockers[30]]}}, hub)
    assert exc.value.status == 400 and "30" in _error(exc)
    with pytest.raises(ApiException) as exc:
        tasks.add_dependencies_for_task({"data": {"dependencies": [blockers[30]]}}, blockers[30])
    assert exc.value.status == 400
    with pytest.raises(ApiException) as exc:  # b0 -> hub already exists; hub -> b0 would be a cycle
        tasks.add_dependencies_for_task({"data": {"dependencies": [hub]}}, blockers[0])
    assert exc.value.status == 400 and "cycle" in _error(exc)
    assert [d["gid"] for d in tasks.get_dependents_for_task(blockers[0], {})] == [hub]
    tasks.remove_dependencies_for_task({"data": {"dependencies": [blockers[0]]}}, hub)
    assert len(list(tasks.get_dependencies_for_task(hub, {}))) == 29


def test_stray_body_query_param_is_tolerated(sdk: asana.ApiClient, mini) -> None:  # type: ignore[no-untyped-def]
    sections = asana.SectionsApi(sdk)
    created = sections.create_section_for_project(mini.project, {"body": {"data": {"name": "Ready"}}})
    assert created["name"] == "Ready"
    task = _new_task(sdk, mini)
    sections.add_task_for_section(created["gid"], {"body": {"data": {"task": task["gid"]}}})
    assert mini.store.section_of(mini.store.tasks[task["gid"]], mini.project) == created["gid"]


def test_system_stories_for_changes(sdk: asana.ApiClient, mini) -> None:  # type: ignore[no-untyped-def]
    tasks, stories = asana.TasksApi(sdk), asana.StoriesApi(sdk)
    gid = _new_task(sdk, mini)["gid"]
    other = _new_task(sdk, mini, "blocker")["gid"]
    tasks.update_task(
        {
            "data": {
                "assignee": mini.users["ana"],
                "due_on": "2026-12-01",
                "custom_fields": {mini.fields["priority"]: mini.options["Low"], mini.fields["points"]: 8},
            }
        },
        gid,
        {},
    )
    asana.SectionsApi(sdk).add_task_for_section(
        mini.sections["In Progress"], {"body": {"data": {"task": gid}}}
    )
    tasks.add_dependencies_for_task({"data": {"dependencies": [other]}}, gid)
    tasks.add_project_for_task({"data": {"project": mini.project2}}, gid)
    tasks.update_task({"data": {"completed": True, "assignee": None}}, gid, {})
    stories.create_story_for_task({"data": {"text": "Looks good"}}, gid, {})
    listed = list(
        stories.get_stories_for_task(
            gid,
            {
                "opt_fields": "type,resource_subtype,text,created_by.name,created_at,old_section.name,"
                "new_section.name,"
                "custom_field.name,old_enum_value,new_enum_value.name,new_number_value,dependency.name,"
                "new_dates,assignee.name"
            },
        )
    )
    by_subtype = {s["resource_subtype"]: s for s in listed}
    assert {
        "assigned",
        "due_date_changed",
        "enum_custom_field_changed",
        "number_custom_field_changed",
        "section_changed",
        "dependency_added",
        "added_to_project",
        "marked_complete",
        "unassigned",
        "comment_added",
    } <= set(by_subtype)
    assert all(s["type"] == "system" for s in listed if s["resource_subtype"] != "comment_added")
    assert by_subtype["comment_added"]["type"] == "comment"
    moved = by_subtype["section_changed"]
    assert (moved["old_section"]["name"], moved["new_section"]["name"]) == ("Backlog", "In Progress")
    enum_story = by_subtype["enum_custom_field_changed"]
    assert enum_story["custom_field"]["name"] == "Priority" and enum_story["new_enum_value"]["name"] == "Low"
    assert enum_story["old_enum_value"] is None
    assert by_subtype["number_custom_field_changed"]["new_number_value"] == 8
    assert by_subtype["dependency_added"]["dependency"]["name"] == "blocker"
    assert by_subtype["assigned"]["assignee"]["name"] == "Ana Lima"
    assert by_subtype["due_date_changed"]["new_dates"]["due_on"] == "2026-12-01"
    assert all(s["created_by"]["name"] == "sprintpilot" for s in listed)


def test_modified_at_semantics(sdk: asana.ApiClient, mini) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime, timedelta

    clock = [datetime(2026, 11, 20, 9, 0, tzinfo=UTC)]
    mini.store.set_clock(lambda: clock[0])
    tasks = asana.TasksApi(sdk)
    gid = _new_task(sdk, mini)["gid"]
    clock[0] += timedelta(hours=1)
    # asana_oas.yaml TaskResponse.modified_at: the move's `section_changed` story changes it.
    asana.SectionsApi(sdk).add_task_for_section(mini.sections["Done"], {"body": {"data": {"task": gid}}})
    assert tasks.get_task(gid, {"opt_fields": "modified_at"})["modified_at"] == "2026-11-20T10:00:00.000Z"
    clock[0] += timedelta(hours=1)
    tasks.update_task({"data": {"name": "Renamed"}}, gid, {})
    assert tasks.get_task(gid, {"opt_fields": "modified_at"})["modified_at"] == "2026-11-20T11:00:00.000Z"
    clock[0] += timedelta(hours=1)
    asana.StoriesApi(sdk).create_story_for_task({"data": {"html_text": "<body><em>hi</em></body>"}}, gid, {})
    assert tasks.get_task(gid, {"opt_fields": "modified_at"})["modified_at"] == "2026-11-20T12:00:00.000Z"


def test_max_twenty_projects_and_member_dedup(sdk: asana.ApiClient, mini) -> None:  # type: ignore[no-untyped-def]
    tasks = asana.TasksApi(sdk)
    gid = _new_task(sdk, mini)["gid"]
    extra = [mini.store.add_project(mini.ws, f"P{i}").gid for i in range(20)]
    for project in extra[:19]:
        tasks.add_project_for_task({"data": {"project": project}}, gid)
    with pytest.raises(ApiException) as exc:
        tasks.add_project_for_task({"data": {"project": extra[19]}}, gid)
    assert exc.value.status == 400
    projects = asana.ProjectsApi(sdk)
    for _ in range(2):
        projects.add_members_for_project({"data": {"members": mini.users["ben"]}}, mini.project, {})
    assert mini.store.projects[mini.project].members.count(mini.users["ben"]) == 1


def test_approval_tasks(sdk: asana.ApiClient, mini) -> None:  # type: ignore[no-untyped-def]
    tasks = asana.TasksApi(sdk)
    task = tasks.create_task(
        {"data": {"name": "Approve sprint plan", "resource_subtype": "approval", "projects": [mini.project]}},
        {"opt_fields": "approval_status,resource_subtype"},
    )
    assert task["approval_status"] == "pending" and task["resource_subtype"] == "approval"
    done = tasks.update_task(
        {"data": {"approval_status": "changes_requested"}}, task["gid"], {"opt_fields": "approval_status"}
    )
    assert done["approval_status"] == "changes_requested"
    with pytest.raises(ApiException):
        tasks.update_task({"data": {"approval_status": "maybe"}}, task["gid"], {})
    plain = _new_task(sdk, mini)
    with pytest.raises(ApiException):
        tasks.update_task({"data": {"approval_status": "approved"}}, plain["gid"], {})
    subtypes = [s["resource_subtype"] for s in asana.StoriesApi(sdk).get_stories_for_task(task["gid"], {})]
    assert "approval_status_changed" in subtypes


def test_subtasks_status_updates_portfolio_attachments(
    sdk: asana.ApiClient, mini, http: httpx.Client
) -> None:  # type: ignore[no-untyped-def]
    tasks = asana.TasksApi(sdk)
    parent = _new_task(sdk, mini, "parent")["gid"]
    child = tasks.create_subtask_for_task({"data": {"name": "child"}}, parent, {})
    assert [t["gid"] for t in tasks.get_subtasks_for_task(parent, {})] == [child["gid"]]
    with pytest.raises(ApiException):  # a task may not become its own ancestor
        tasks.set_parent_for_task({"data": {"parent": child["gid"]}}, parent, {})
    status = asana.StatusUpdatesApi(sdk).create_status_for_object(
        {"data": {"parent": mini.project, "text": "On track", "status_type": "on_track", "title": "W48"}}, {}
    )
    listed = list(asana.StatusUpdatesApi(sdk).get_statuses_for_object(mini.project, {"opt_fields": "title"}))
    assert listed == [{"gid": status["gid"], "title": "W48"}]
    portfolio = mini.store.add_portfolio(mini.ws, "Mobile Portfolio", owner=mini.users["bot"]).gid
    asana.PortfoliosApi(sdk).add_item_for_portfolio({"data": {"item": mini.project}}, portfolio)
    items = list(asana.PortfoliosApi(sdk).get_items_for_portfolio(portfolio, {}))
    assert [i["gid"] for i in items] == [mini.project]
    upload = http.post(
        "/attachments", data={"parent": parent}, files={"file": ("notes.txt", b"hello", "text/plain")}
    )
    assert upload.status_code == 200  # asana_oas.yaml: paths./attachments.post responses: 200
    assert "Location" not in upload.headers
    attachment = http.get(f"/attachments/{upload.json()['data']['gid']}").json()["data"]
    assert attachment["size"] == 5
    assert httpx.get(attachment["download_url"]).content == b"hello"
    listed_attachments = http.get("/attachments", params={"parent": parent}).json()["data"]
    assert [a["name"] for a in listed_attachments] == ["notes.txt"]
