"""Sandbox behaviours aligned with Asana's OpenAPI spec (issue 18, "Sandbox vs spec").

Each test names the spec path it follows (/work/shared/reference/asana/asana_oas.yaml).
"""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.integration


def _task(http: httpx.Client, mini, **extra: object) -> str:  # type: ignore[no-untyped-def]
    response = http.post("/tasks", json={"data": {"name": "Dated", "projects": [mini.project], **extra}})
    assert response.status_code == 201, response.text
    return str(response.json()["data"]["gid"])


def test_due_on_with_due_at_is_400(http: httpx.Client, mini) -> None:  # type: ignore[no-untyped-def]
    # asana_oas.yaml: paths./tasks.post + TaskBase.due_on/due_at ("should not be used together")
    both = {"due_on": "2026-12-01", "due_at": "2026-12-01T09:00:00.000Z"}
    created = http.post("/tasks", json={"data": {"name": "x", "projects": [mini.project], **both}})
    assert created.status_code == 400
    assert "due_at" in created.json()["errors"][0]["message"]
    # asana_oas.yaml: paths./tasks/{task_gid}.put
    gid = _task(http, mini)
    assert http.put(f"/tasks/{gid}", json={"data": both}).status_code == 400
    assert http.get(f"/tasks/{gid}").json()["data"]["due_on"] is None  # nothing changed
    # Either one alone is fine; clearing one while setting the other too.
    assert http.put(f"/tasks/{gid}", json={"data": {"due_on": "2026-12-02"}}).status_code == 200
    ok = http.put(f"/tasks/{gid}", json={"data": {"due_on": None, "due_at": "2026-12-03T09:00:00.000Z"}})
    assert ok.status_code == 200, ok.text


def test_start_on_alone_on_put_is_400(http: httpx.Client, mini) -> None:  # type: ignore[no-untyped-def]
    # asana_oas.yaml: paths./tasks/{task_gid}.put, TaskBase.start_on: "`due_on` or `due_at` must be
    # present in the request when setting or unsetting the `start_on` parameter."
    bare = _task(http, mini)
    refused = http.put(f"/tasks/{bare}", json={"data": {"start_on": "2026-12-01"}})
    assert refused.status_code == 400
    assert "start_on" in refused.json()["errors"][0]["message"]
    dated = _task(http, mini, due_on="2026-12-10")
    assert http.put(f"/tasks/{dated}", json={"data": {"start_on": "2026-12-01"}}).status_code == 400
    assert http.put(f"/tasks/{dated}", json={"data": {"start_on": None}}).status_code == 400  # unsetting too
    ok = http.put(f"/tasks/{dated}", json={"data": {"start_on": "2026-12-01", "due_on": "2026-12-10"}})
    assert ok.status_code == 200 and ok.json()["data"]["start_on"] == "2026-12-01"
    # asana_oas.yaml: paths./tasks.post: the same rule on create
    assert (
        http.post(
            "/tasks", json={"data": {"name": "s", "projects": [mini.project], "start_on": "2026-12-01"}}
        ).status_code
        == 400
    )


def test_story_location_is_the_stories_path(http: httpx.Client, mini) -> None:  # type: ignore[no-untyped-def]
    # asana_oas.yaml: paths./tasks/{task_gid}/stories.post answers 201; the story lives at
    # paths./stories/{story_gid}
    gid = _task(http, mini)
    response = http.post(f"/tasks/{gid}/stories", json={"data": {"text": "hello"}})
    assert response.status_code == 201
    story = response.json()["data"]["gid"]
    location = response.headers["Location"]
    assert location.endswith(f"/api/1.0/stories/{story}"), location
    assert http.get(location).status_code == 200


def test_attachment_upload_answers_200(http: httpx.Client, mini) -> None:  # type: ignore[no-untyped-def]
    # asana_oas.yaml: paths./attachments.post responses: 200 (every other create the product calls: 201)
    gid = _task(http, mini)
    upload = http.post("/attachments", data={"parent": gid}, files={"file": ("a.txt", b"hi", "text/plain")})
    assert upload.status_code == 200, upload.text


def test_num_subtasks_is_opt_in(http: httpx.Client, mini) -> None:  # type: ignore[no-untyped-def]
    # asana_oas.yaml: components.schemas.TaskResponse.num_subtasks: "[Opt In]"
    gid = _task(http, mini)
    assert "num_subtasks" not in http.get(f"/tasks/{gid}").json()["data"]
    asked = http.get(f"/tasks/{gid}", params={"opt_fields": "num_subtasks"}).json()["data"]
    assert asked == {"gid": gid, "num_subtasks": 0}


def test_task_counts_are_opt_in(http: httpx.Client, mini) -> None:  # type: ignore[no-untyped-def]
    # asana_oas.yaml: paths./projects/{project_gid}/task_counts.get: "All fields are excluded by
    # default. You must opt in using `opt_fields`"
    assert http.get(f"/projects/{mini.project}/task_counts").json()["data"] == {}
    asked = http.get(f"/projects/{mini.project}/task_counts", params={"opt_fields": "num_tasks"})
    assert asked.json()["data"] == {"num_tasks": 5}


def test_local_or_http_webhook_targets_refused_by_default(mini, receiver) -> None:  # type: ignore[no-untyped-def]
    # asana_oas.yaml: paths./webhooks.post (WebhookRequest.target): Asana delivers only to https
    # targets it can reach; the sandbox accepts local targets only when told to (test stacks, demo).
    from sandbox.server import SandboxServer

    with SandboxServer(mini.store, mini.token) as srv:
        headers = {"Authorization": f"Bearer {srv.token}"}
        for target in (
            receiver.url,  # a live receiver on http://127.0.0.1: the handshake would succeed
            "http://127.0.0.1:9/hook",
            "http://hooks.example.com/hook",
            "https://localhost/hook",
            "https://10.1.2.3/hook",
            "https://[::1]/hook",
            "https://receiver/hook",
        ):
            body = {"data": {"resource": mini.project, "target": target}}
            response = httpx.post(f"{srv.base_url}/webhooks", json=body, headers=headers, timeout=10)
            assert response.status_code == 400, (target, response.text)
            message = response.json()["errors"][0]["message"]
            assert message.startswith("target:") and ("https" in message or "public host" in message)
        assert mini.store.webhooks == {} and receiver.handshakes == []


def test_unknown_search_filters_are_400(http: httpx.Client, mini) -> None:  # type: ignore[no-untyped-def]
    # asana_oas.yaml: paths./workspaces/{workspace_gid}/tasks/search.get parameters
    url = f"/workspaces/{mini.ws}/tasks/search"
    refused = http.get(
        url, params={"text": "Task", "assignee_any": mini.users["ana"]}
    )  # typo of assignee.any
    assert refused.status_code == 400
    assert "assignee_any" in refused.json()["errors"][0]["message"]
    assert http.get(url, params={"sort_by": "priority"}).status_code == 400  # not in the sort_by enum
    ok = http.get(
        url,
        params={"text": "Task", "projects.any": mini.project, "sort_by": "created_at", "opt_fields": "name"},
    )
    assert ok.status_code == 200 and len(ok.json()["data"]) == 5
    cf = http.get(url, params={f"custom_fields.{mini.fields['points']}.is_set": "true"})
    assert cf.status_code == 200  # documented custom field filters are accepted


def test_bogus_sticker_name_is_400(http: httpx.Client, mini) -> None:  # type: ignore[no-untyped-def]
    # asana_oas.yaml: paths./tasks/{task_gid}/stories.post, components.schemas.StoryBase.sticker_name enum
    gid = _task(http, mini)
    bogus = http.post(f"/tasks/{gid}/stories", json={"data": {"text": "yay", "sticker_name": "rocket"}})
    assert bogus.status_code == 400
    assert "sticker_name" in bogus.json()["errors"][0]["message"]
    fine = http.post(f"/tasks/{gid}/stories", json={"data": {"text": "yay", "sticker_name": "trophy"}})
    assert fine.status_code == 201


def test_project_in_an_organization_needs_a_team(http: httpx.Client, mini) -> None:  # type: ignore[no-untyped-def]
    # asana_oas.yaml: paths./projects.post and paths./workspaces/{workspace_gid}/projects.post: "If
    # the workspace for your project is an organization, you must also supply a team"
    for url in ("/projects", f"/workspaces/{mini.ws}/projects"):
        refused = http.post(url, json={"data": {"workspace": mini.ws, "name": "Teamless"}})
        assert refused.status_code == 400, url
        assert refused.json()["errors"][0]["message"] == "team: Missing input"
    team = mini.store.add_team(mini.ws, "Product").gid
    # asana_oas.yaml: paths./teams/{team_gid}/projects.post (the non-deprecated way to pass a team)
    created = http.post(f"/teams/{team}/projects", json={"data": {"name": "Sprint 24"}})
    assert created.status_code == 201, created.text
    assert created.json()["data"]["team"]["gid"] == team
    # A plain workspace (not an organization) needs no team.
    plain = mini.store.add_workspace("Home", is_organization=False).gid
    mini.store.add_workspace_member(plain, mini.users["bot"])
    assert http.post("/projects", json={"data": {"workspace": plain, "name": "Chores"}}).status_code == 201


def _section_order(http: httpx.Client, section: str) -> list[str]:
    return [t["gid"] for t in http.get(f"/sections/{section}/tasks").json()["data"]]


def test_add_task_goes_to_the_top_of_the_section(http: httpx.Client, mini) -> None:  # type: ignore[no-untyped-def]
    # asana_oas.yaml: paths./sections/{section_gid}/addTask.post: "The task will be inserted at the
    # top of a section unless an insert_before or insert_after parameter is declared."
    done = mini.sections["Done"]
    first, second = _task(http, mini), _task(http, mini)
    for gid in (first, second):
        assert http.post(f"/sections/{done}/addTask", json={"data": {"task": gid}}).status_code == 200
    assert _section_order(http, done) == [second, first]
    third = _task(http, mini)
    after = http.post(f"/sections/{done}/addTask", json={"data": {"task": third, "insert_after": second}})
    assert after.status_code == 200 and _section_order(http, done) == [second, third, first]
    # SectionTaskInsertRequest: the anchor is "an existing task within this section"; never both.
    backlog_task = _section_order(http, mini.sections["Backlog"])[0]
    foreign = http.post(
        f"/sections/{done}/addTask", json={"data": {"task": third, "insert_before": backlog_task}}
    )
    assert foreign.status_code == 400 and "insert_before" in foreign.json()["errors"][0]["message"]
    both = {"task": third, "insert_before": first, "insert_after": second}
    assert http.post(f"/sections/{done}/addTask", json={"data": both}).status_code == 400
    assert _section_order(http, done) == [second, third, first]  # refused calls moved nothing


def test_add_project_positions(http: httpx.Client, mini) -> None:  # type: ignore[no-untyped-def]
    # asana_oas.yaml: paths./tasks/{task_gid}/addProject.post (TaskAddProjectRequest): `section`
    # alone = end of the section, `insert_after: null` = its beginning; anchors must be in it.
    todo = http.get(f"/projects/{mini.project2}/sections").json()["data"][0]["gid"]
    a, b, c = _task(http, mini), _task(http, mini), _task(http, mini)
    for gid in (a, b):
        body = {"project": mini.project2, "section": todo}
        assert http.post(f"/tasks/{gid}/addProject", json={"data": body}).status_code == 200
    top = {"project": mini.project2, "section": todo, "insert_after": None}
    assert http.post(f"/tasks/{c}/addProject", json={"data": top}).status_code == 200
    assert _section_order(http, todo) == [c, a, b]
    outside = {
        "project": mini.project2,
        "section": todo,
        "insert_before": _section_order(http, mini.sections["Backlog"])[0],
    }
    assert http.post(f"/tasks/{a}/addProject", json={"data": outside}).status_code == 400
    both = {"project": mini.project2, "insert_before": c, "insert_after": b}
    assert http.post(f"/tasks/{a}/addProject", json={"data": both}).status_code == 400


def test_moves_change_modified_at(http: httpx.Client, mini) -> None:  # type: ignore[no-untyped-def]
    # asana_oas.yaml: components.schemas.TaskResponse.modified_at: "story is created on a task"
    # changes it; addProject/removeProject/section moves each leave a system story.
    from datetime import UTC, datetime, timedelta

    clock = [datetime(2026, 11, 20, 9, 0, tzinfo=UTC)]
    mini.store.set_clock(lambda: clock[0])
    gid = _task(http, mini)

    def modified_after(method: str, body: dict[str, object]) -> str:
        clock[0] += timedelta(hours=1)
        assert http.post(method, json={"data": body}).status_code == 200
        return str(
            http.get(f"/tasks/{gid}", params={"opt_fields": "modified_at"}).json()["data"]["modified_at"]
        )

    assert (
        modified_after(f"/tasks/{gid}/addProject", {"project": mini.project2}) == "2026-11-20T10:00:00.000Z"
    )
    assert (
        modified_after(f"/sections/{mini.sections['Done']}/addTask", {"task": gid})
        == "2026-11-20T11:00:00.000Z"
    )
    assert (
        modified_after(f"/tasks/{gid}/removeProject", {"project": mini.project2})
        == "2026-11-20T12:00:00.000Z"
    )


def test_form_encoded_writes(http: httpx.Client, mini) -> None:  # type: ignore[no-untyped-def]
    # developers.asana.com/docs (quick start, input/output options): the API "accepts JSON or
    # form-encoded requests"; form fields are top level (no `data`), options are `opt_*`.
    created = http.post(
        "/tasks",
        content=f"name=Buy+catfood&projects[0]={mini.project}&completed=false&opt_fields=name,completed",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert created.status_code == 201, created.text
    data = created.json()["data"]
    assert (data["name"], data["completed"]) == ("Buy catfood", False) and set(data) == {
        "gid",
        "name",
        "completed",
    }
    gid = data["gid"]
    renamed = http.put(f"/tasks/{gid}", data={"name": "Buy more catfood", "completed": "true"})
    assert renamed.status_code == 200, renamed.text
    assert (renamed.json()["data"]["name"], renamed.json()["data"]["completed"]) == ("Buy more catfood", True)
    memberships = http.get(f"/tasks/{gid}", params={"opt_fields": "memberships.project"}).json()["data"]
    assert memberships["memberships"][0]["project"]["gid"] == mini.project


def test_page_offsets_expire(http: httpx.Client, mini, server) -> None:  # type: ignore[no-untyped-def]
    # asana_oas.yaml: components.schemas.NextPage: "an offset token will expire after some time";
    # Asana answers 400 "offset: Your pagination token is invalid or has expired."
    url = f"/projects/{mini.project}/tasks"
    offset = http.get(url, params={"limit": 2}).json()["next_page"]["offset"]
    assert http.get(url, params={"limit": 2, "offset": offset}).status_code == 200
    admin = {"Authorization": f"Bearer {server.token}"}
    assert httpx.post(f"{server.root_url}/__sandbox/offsets/expire", headers=admin).status_code == 200
    stale = http.get(url, params={"limit": 2, "offset": offset})
    assert stale.status_code == 400
    assert stale.json()["errors"][0]["message"] == "offset: Your pagination token is invalid or has expired."
    fresh = http.get(url, params={"limit": 2}).json()["next_page"]["offset"]  # new offsets work again
    assert http.get(url, params={"limit": 2, "offset": fresh}).status_code == 200
    assert server.services.offset_ttl_s == 900  # a real Asana offset is a JWT with exp = iat + 900 s
    server.services.offset_ttl_s = -1  # every offset is now older than the TTL
    assert http.get(url, params={"limit": 2, "offset": fresh}).status_code == 400


def test_events_resource_types(http: httpx.Client, mini) -> None:  # type: ignore[no-untyped-def]
    # asana_oas.yaml: paths./events.get: "The resource can be a task, project, or goal"
    refused = http.get("/events", params={"resource": mini.ws})
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["message"].startswith("resource: ")
    assert http.get("/events", params={"resource": mini.sections["Done"]}).status_code == 400
    assert http.get("/events", params={"resource": mini.project}).status_code == 412  # first sync
    # asana_oas.yaml: paths./workspaces/{workspace_gid}/events.get stays the way to follow a workspace
    first = http.get(f"/workspaces/{mini.ws}/events")
    assert first.status_code == 412 and first.json()["sync"]


def test_webhook_filter_action_enum(http: httpx.Client, mini) -> None:  # type: ignore[no-untyped-def]
    # asana_oas.yaml: components.schemas.WebhookFilter.action: one of changed, added, removed,
    # deleted, undeleted
    body = {
        "resource": mini.project,
        "target": "https://hooks.example.com/h",
        "filters": [{"resource_type": "task", "action": "updated"}],
    }
    refused = http.post("/webhooks", json={"data": body})
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["message"].startswith("filters.action: ")
    assert mini.store.webhooks == {}


def test_delete_portfolio(http: httpx.Client, mini) -> None:  # type: ignore[no-untyped-def]
    # asana_oas.yaml: paths./portfolios/{portfolio_gid}.delete answers 200 {"data": {}}
    outer = http.post("/portfolios", json={"data": {"workspace": mini.ws, "name": "All"}}).json()["data"][
        "gid"
    ]
    inner = http.post("/portfolios", json={"data": {"workspace": mini.ws, "name": "Team"}}).json()["data"][
        "gid"
    ]
    assert http.post(f"/portfolios/{outer}/addItem", json={"data": {"item": inner}}).status_code == 200
    assert http.post(f"/portfolios/{inner}/addItem", json={"data": {"item": mini.project}}).status_code == 200
    field = {"custom_field": mini.fields["score"]}
    assert http.post(f"/portfolios/{inner}/addCustomFieldSetting", json={"data": field}).status_code == 200
    deleted = http.delete(f"/portfolios/{inner}")
    assert deleted.status_code == 200 and deleted.json() == {"data": {}}
    assert http.get(f"/portfolios/{inner}").status_code == 404
    assert http.get(f"/portfolios/{outer}/items").json()["data"] == []  # no dangling item
    assert http.get(f"/projects/{mini.project}").status_code == 200  # its projects stay
    assert not [s for s in mini.store.field_settings.values() if s.parent == inner]


def test_delete_custom_field(http: httpx.Client, mini) -> None:  # type: ignore[no-untyped-def]
    # asana_oas.yaml: paths./custom_fields/{custom_field_gid}.delete answers 200 {"data": {}}
    points = mini.fields["points"]
    task = _section_order(http, mini.sections["Backlog"])[0]
    assert points in mini.store.tasks[task].custom_fields
    deleted = http.delete(f"/custom_fields/{points}")
    assert deleted.status_code == 200 and deleted.json() == {"data": {}}
    assert http.get(f"/custom_fields/{points}").status_code == 404
    settings = http.get(
        f"/projects/{mini.project}/custom_field_settings", params={"opt_fields": "custom_field"}
    )
    assert points not in {s["custom_field"]["gid"] for s in settings.json()["data"]}
    values = http.get(f"/tasks/{task}", params={"opt_fields": "custom_fields"}).json()["data"][
        "custom_fields"
    ]
    assert points not in {v["gid"] for v in values}


def test_sticker_name_is_stored(http: httpx.Client, mini) -> None:  # type: ignore[no-untyped-def]
    # asana_oas.yaml: paths./tasks/{task_gid}/stories.post, components.schemas.StoryBase.sticker_name
    gid = _task(http, mini)
    story = http.post(f"/tasks/{gid}/stories", json={"data": {"text": "yay", "sticker_name": "trophy"}})
    assert story.status_code == 201
    got = http.get(f"/stories/{story.json()['data']['gid']}", params={"opt_fields": "sticker_name"})
    assert got.json()["data"]["sticker_name"] == "trophy"
    plain = http.post(f"/tasks/{gid}/stories", json={"data": {"text": "ok"}}).json()["data"]["gid"]
    assert (
        http.get(f"/stories/{plain}", params={"opt_fields": "sticker_name"}).json()["data"]["sticker_name"]
        is None
    )


def test_client_creates_projects_through_a_team(server, mini) -> None:  # type: ignore[no-untyped-def]
    # asana_oas.yaml: paths./projects.post (`team` deprecated there; an organization needs one) and
    # paths./teams/{team_gid}/projects.post; PortfolioRequest.public is deprecated
    from tools.asana import AsanaClient

    team = mini.store.add_team(mini.ws, "Product").gid
    stats = server.store.stats
    with AsanaClient(server.base_url, mini.token) as client:
        with pytest.raises(ValueError, match="organization"):
            client.create_project(mini.ws, "Teamless")
        assert stats.count("POST", "/projects") == 0  # refused before anything was sent
        project = client.create_project(mini.ws, "Sprint 24", team_gid=team, due_on="2026-12-20")
        assert project.team is not None and project.team.gid == team
        assert stats.count("POST", "/teams/{team_gid}/projects") == 1
        plain = mini.store.add_workspace("Home", is_organization=False).gid
        mini.store.add_workspace_member(plain, mini.users["bot"])
        assert client.create_project(plain, "Chores").gid
        portfolio = client.create_portfolio(mini.ws, "All", privacy_setting="public_to_domain")
        assert mini.store.portfolios[portfolio.gid].public is True
