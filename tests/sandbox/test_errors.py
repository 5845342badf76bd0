"""Error shapes and access rules over raw HTTP (and how the SDK surfaces them)."""

from __future__ import annotations

import asana
import httpx
import pytest
from asana.rest import ApiException

from sandbox.server import SandboxServer

from .conftest import OTHER_TOKEN  # type: ignore[import-not-found]

pytestmark = pytest.mark.integration


def _assert_error(response: httpx.Response, status: int) -> dict:  # type: ignore[type-arg]
    assert response.status_code == status, response.text
    body = response.json()
    entry = body["errors"][0]
    assert entry["message"] and "help" in entry
    assert ("phrase" in entry) == (status >= 500)
    return body  # type: ignore[no-any-return]


def test_missing_or_bad_token_is_401(server: SandboxServer, mini) -> None:  # type: ignore[no-untyped-def]
    _assert_error(httpx.get(f"{server.base_url}/users/me"), 401)
    _assert_error(httpx.get(f"{server.base_url}/users/me", headers={"Authorization": "Bearer nope"}), 401)
    _assert_error(httpx.get(f"{server.base_url}/users/me", headers={"Authorization": "Basic abc"}), 401)


def test_malformed_json_is_400_not_a_crash(http: httpx.Client, mini) -> None:  # type: ignore[no-untyped-def]
    for raw in (b"{not json", b"[1,2]", b"\xff\xfe"):
        response = http.post("/tasks", content=raw, headers={"Content-Type": "application/json"})
        _assert_error(response, 400)
    _assert_error(http.put(f"/tasks/{mini.store.project_tasks(mini.project)[0]}", json={"data": "x"}), 400)
    _assert_error(http.post("/tasks", json={"nodata": {}}), 400)


def test_unknown_gid_and_route_are_404(http: httpx.Client, sdk: asana.ApiClient) -> None:
    _assert_error(http.get("/tasks/123"), 404)
    _assert_error(http.get("/projects/987654321/tasks", params={"limit": 10}), 404)
    _assert_error(http.get("/no_such_thing"), 404)
    with pytest.raises(ApiException) as exc:
        asana.TasksApi(sdk).get_task("424242", {})
    assert exc.value.status == 404


def test_other_workspace_is_403(http: httpx.Client, server: SandboxServer, mini) -> None:  # type: ignore[no-untyped-def]
    _assert_error(http.get(f"/tasks/{mini.other_task}"), 403)
    _assert_error(http.get(f"/workspaces/{mini.other_ws}/users"), 403)
    _assert_error(http.put(f"/tasks/{mini.other_task}", json={"data": {"name": "pwned"}}), 403)
    assert mini.store.tasks[mini.other_task].name == "secret task"
    # The outsider cannot see ours either.
    outsider = {"Authorization": f"Bearer {OTHER_TOKEN}"}
    _assert_error(httpx.get(f"{server.base_url}/projects/{mini.project}", headers=outsider), 403)


def test_body_field_referencing_unknown_gid_is_400(http: httpx.Client, mini) -> None:  # type: ignore[no-untyped-def]
    _assert_error(http.post("/tasks", json={"data": {"name": "x", "projects": ["31337"]}}), 400)
    task = next(iter(mini.store.project_tasks(mini.project)))
    _assert_error(
        http.post(f"/tasks/{task}/addDependencies", json={"data": {"dependencies": ["31337"]}}), 400
    )


def test_server_error_has_phrase(http: httpx.Client, faults) -> None:  # type: ignore[no-untyped-def]
    faults(burst_5xx=1, status_5xx=500)
    _assert_error(http.get("/users/me"), 500)
    assert http.get("/users/me").status_code == 200
