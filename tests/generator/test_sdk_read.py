"""The generated backlog read through the official `asana` SDK over HTTP from the sandbox server."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from typing import Any

import pytest

from sandbox.generator import GeneratedWorkspace, generate_workspace

if importlib.util.find_spec("sandbox.server") is None:  # the sandbox app is built by another part
    pytest.skip("sandbox/server.py (SandboxServer) is not available", allow_module_level=True)

import asana  # noqa: E402
from urllib3.util.retry import Retry  # noqa: E402

from sandbox.server import SandboxServer  # noqa: E402

TASK_FIELDS = ",".join(
    (
        "name",
        "completed",
        "notes",
        "assignee.name",
        "tags.name",
        "dependencies",
        "memberships.section.name",
        "memberships.project.name",
        "custom_fields.name",
        "custom_fields.number_value",
        "custom_fields.enum_value.name",
        "custom_fields.text_value",
    )
)


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[GeneratedWorkspace, asana.ApiClient]]:
    ws = generate_workspace(7)
    with SandboxServer(ws.store, ws.token) as server:
        cfg = asana.Configuration()
        cfg.host = server.base_url
        cfg.access_token = ws.token
        cfg.retry_strategy = Retry(total=0)
        yield ws, asana.ApiClient(cfg)


def _fields(task: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for cf in task["custom_fields"]:
        out[cf["name"]] = (
            (cf.get("enum_value") or {}).get("name")
            if "enum_value" in cf
            else (cf.get("number_value") if "number_value" in cf else cf.get("text_value"))
        )
    return out


def test_sdk_sees_the_contract_names(served: tuple[GeneratedWorkspace, asana.ApiClient]) -> None:
    ws, client = served
    me = asana.UsersApi(client).get_user("me", {"opt_fields": "name,workspaces.name"})
    assert me["name"] == "sprintpilot"
    assert [w["name"] for w in me["workspaces"]] == ["Acme Product"]
    projects = list(
        asana.ProjectsApi(client).get_projects_for_workspace(
            ws.workspace_gid, {"opt_fields": "name,owner.name"}
        )
    )
    names = {p["name"] for p in projects}
    assert {"Product Backlog", "Process Improvement", *(f"Sprint {n}" for n in range(18, 24))} <= names
    backlog = next(p for p in projects if p["name"] == "Product Backlog")
    assert backlog["owner"]["gid"] == ws.scrum_master_gid


def test_sdk_reads_the_whole_backlog_with_fields(served: tuple[GeneratedWorkspace, asana.ApiClient]) -> None:
    ws, client = served
    api = asana.TasksApi(client)
    tasks = list(api.get_tasks_for_project(ws.backlog_project_gid, {"opt_fields": TASK_FIELDS}))
    # The SDK paginates (100 per page) through every task of the backlog.
    assert len(tasks) == len(ws.store.project_tasks(ws.backlog_project_gid)) > 100
    open_items = [t for t in tasks if not t["completed"]]
    assert len(open_items) == 150
    values = [_fields(t) for t in open_items]
    assert all(v["Priority"] in {"Critical", "High", "Medium", "Low"} for v in values)
    assert all(1 <= v["Business Value"] <= 100 and 1 <= v["Effort"] <= 10 for v in values)
    unpointed = sum(v["Story Points"] is None for v in values)
    assert 0.05 * 150 <= unpointed <= 0.12 * 150
    assert any(v["Status"] == "Blocked" for v in values)
    assert sum(bool(t["dependencies"]) for t in open_items) >= 20
    assert all(len(t["tags"]) == 1 for t in open_items)
    sections = {
        m["section"]["name"]
        for t in tasks
        for m in t["memberships"]
        if m["project"]["gid"] == ws.backlog_project_gid
    }
    assert {"Icebox", "Backlog", "Ready", "Done"} <= sections
    assert sections & {"In Progress", "Ready for Review"}


def test_sdk_reads_sprint_history_stories(served: tuple[GeneratedWorkspace, asana.ApiClient]) -> None:
    ws, client = served
    last_sprint = ws.sprint_project_gids[-1]
    tasks = list(
        asana.TasksApi(client).get_tasks_for_project(
            last_sprint, {"opt_fields": "name,completed,completed_at"}
        )
    )
    done = next(t for t in tasks if t["completed"])
    stories = list(
        asana.StoriesApi(client).get_stories_for_task(
            done["gid"], {"opt_fields": "created_at,resource_subtype,type,text"}
        )
    )
    subtypes = [s["resource_subtype"] for s in stories]
    assert "section_changed" in subtypes and "marked_complete" in subtypes
    assert subtypes.index("section_changed") < subtypes.index("marked_complete")
    assert [s["created_at"] for s in stories] == sorted(s["created_at"] for s in stories)
    completion = next(s for s in stories if s["resource_subtype"] == "marked_complete")
    assert completion["created_at"] == done["completed_at"]
