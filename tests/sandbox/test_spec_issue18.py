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
