"""Reads: one request per 100 items, the view's opt_fields, typed models, name lookups."""

from __future__ import annotations

import math

import pytest

from tests.asana_client.fake_asana import FakeAsana, Reply, Request, error, ok
from tools.asana import AmbiguousName, AsanaClient, NotFound, TaskView


def paged(items: list[dict], page_size: int = 100):  # type: ignore[no-untyped-def]
    """A handler paginating `items` with opaque offsets, recording nothing else."""

    def handler(req: Request) -> Reply:
        limit = int(req.query.get("limit", "100"))
        start = int(req.query["offset"].removeprefix("tok-")) if "offset" in req.query else 0
        chunk = items[start : start + min(limit, page_size)]
        end = start + len(chunk)
        next_page = {"offset": f"tok-{end}", "path": "/x", "uri": "http://x"} if end < len(items) else None
        return Reply(200, {"data": chunk, "next_page": next_page})

    return handler


@pytest.mark.parametrize("n", [0, 1, 100, 101, 250])
def test_project_tasks_costs_one_call_per_100(fake: FakeAsana, client: AsanaClient, n: int) -> None:
    items = [{"gid": str(1000 + i), "name": f"T{i}", "extra_field_from_the_future": i} for i in range(n)]
    fake.handler = paged(items)
    tasks = client.project_tasks("42")
    assert [t.gid for t in tasks] == [i["gid"] for i in items]
    assert client.calls["GET /projects/{gid}/tasks"] == max(1, math.ceil(n / 100))
    assert client.calls.total == max(1, math.ceil(n / 100))
    for req in fake.requests:
        assert req.path == "/projects/42/tasks"
        assert req.query["limit"] == "100"
        assert req.query["opt_fields"] == TaskView.PLANNING.opt_fields
    assert [r.query.get("offset") for r in fake.requests][1:] == [
        f"tok-{k * 100}" for k in range(1, len(fake.requests))
    ]


def test_planning_view_has_everything_the_planner_reads() -> None:
    fields = set(TaskView.PLANNING.opt_fields.split(","))
    for needed in (
        "name",
        "notes",
        "assignee.name",
        "completed",
        "completed_at",
        "due_on",
        "start_on",
        "tags.name",
        "memberships.project.name",
        "memberships.section.name",
        "dependencies",
        "dependents",
        "custom_fields.display_value",
        "custom_fields.enum_value.name",
        "custom_fields.number_value",
        "custom_fields.multi_enum_values.name",
        "custom_fields.date_value",
        "custom_fields.people_value.name",
        "num_subtasks",
        "approval_status",
        "parent",
        "modified_at",
        "permalink_url",
    ):
        assert needed in fields
    assert set(TaskView.COMPACT.fields) < fields < set(TaskView.DETAIL.fields)


def test_completed_since_is_passed(fake: FakeAsana, client: AsanaClient) -> None:
    fake.handler = paged([])
    client.project_tasks("42", completed_since="now")
    assert fake.requests[0].query["completed_since"] == "now"


def test_task_model_parses_planning_shape(fake: FakeAsana, client: AsanaClient) -> None:
    fake.script(
        ok(
            {
                "gid": "7",
                "name": "Checkout",
                "completed": False,
                "due_on": "2026-12-01",
                "created_at": "2026-11-02T10:00:00.000Z",
                "assignee": {"gid": "3", "name": "Ana"},
                "memberships": [
                    {"project": {"gid": "42", "name": "Backlog"}, "section": {"gid": "43", "name": "Ready"}}
                ],
                "dependencies": [{"gid": "8", "resource_type": "task"}],
                "tags": [{"gid": "9", "name": "backend"}],
                "custom_fields": [
                    {
                        "gid": "c1",
                        "name": "Story Points",
                        "resource_subtype": "number",
                        "number_value": 5.0,
                        "precision": 0,
                        "display_value": "5",
                    },
                ],
            }
        )
    )
    task = client.task("7", view=TaskView.PLANNING)
    assert task.section_in("42") is not None and task.section_in("42").name == "Ready"  # type: ignore[union-attr]
    assert task.dependency_gids == ["8"]
    assert task.tag_names == ["backend"]
    assert task.field("Story Points") == 5 and isinstance(task.field("Story Points"), int)
    assert task.due_on is not None and task.due_on.isoformat() == "2026-12-01"


def test_find_project_by_name_gid_and_close_names(fake: FakeAsana, client: AsanaClient) -> None:
    projects = [
        {"gid": "1", "name": "Product Backlog", "archived": False},
        {"gid": "2", "name": "Sprint 23", "archived": False},
        {"gid": "3", "name": "Sprint 22", "archived": True},
        {"gid": "4", "name": "Twin", "archived": False},
        {"gid": "5", "name": "Twin", "archived": False},
    ]
    fake.handler = paged(projects)
    assert client.find_project("100", "Product Backlog").gid == "1"
    assert client.find_project("100", "sprint 23").gid == "2"
    with pytest.raises(NotFound) as info:
        client.find_project("100", "Sprint 24")
    assert "Sprint 23" in str(info.value) and "Sprint 22" in str(info.value)
    with pytest.raises(AmbiguousName):
        client.find_project("100", "Twin")
    fake.script(ok({"gid": "2", "name": "Sprint 23"}))
    assert client.find_project("100", "2").name == "Sprint 23"
    assert fake.requests[-1].path == "/projects/2"


def test_field_map_is_cached_per_client(fake: FakeAsana, client: AsanaClient) -> None:
    settings = [
        {
            "gid": "s1",
            "project": {"gid": "42", "name": "Backlog"},
            "custom_field": {
                "gid": "c1",
                "name": "Story Points",
                "resource_subtype": "number",
                "precision": 0,
            },
        },
    ]
    fake.handler = paged(settings)
    fm = client.field_map("42")
    assert client.field_map("42") is fm
    assert client.calls["GET /projects/{gid}/custom_field_settings"] == 1
    assert fm.require("story points").gid == "c1"
    client.field_map("42", refresh=True)
    assert client.calls["GET /projects/{gid}/custom_field_settings"] == 2


def test_list_endpoints_hit_the_right_paths(fake: FakeAsana, client: AsanaClient) -> None:
    fake.handler = paged([{"gid": "1", "name": "x"}])
    client.workspaces()
    client.users("w")
    client.teams("w")
    client.projects("w")
    client.sections("p")
    client.section_tasks("s")
    client.subtasks("t")
    client.stories("t")
    client.status_updates("p")
    client.portfolio_items("pf")
    client.attachments("t")
    seen = [(r.path, r.query.get("parent") or r.query.get("archived")) for r in fake.requests]
    assert seen == [
        ("/workspaces", None),
        ("/workspaces/w/users", None),
        ("/workspaces/w/teams", None),
        ("/workspaces/w/projects", "false"),
        ("/projects/p/sections", None),
        ("/sections/s/tasks", None),
        ("/tasks/t/subtasks", None),
        ("/tasks/t/stories", None),
        ("/status_updates", "p"),
        ("/portfolios/pf/items", None),
        ("/attachments", "t"),
    ]
    assert all(r.query.get("opt_fields") for r in fake.requests)


def test_unknown_status_maps_to_base_error(fake: FakeAsana, client: AsanaClient) -> None:
    from tools.asana import AsanaError

    fake.script(error(451, "unavailable for legal reasons"))
    with pytest.raises(AsanaError) as info:
        client.task("1")
    assert info.value.status == 451


def test_stories_many_fetches_each_task_once(fake: FakeAsana, client: AsanaClient) -> None:
    def handler(req: Request) -> Reply:
        gid = req.path.split("/")[2]
        return ok([{"gid": f"s{gid}", "type": "comment", "text": f"on {gid}"}])

    fake.handler = handler
    got = client.stories_many(["1", "2", "3", "2"])
    assert {k: [s.text for s in v] for k, v in got.items()} == {"1": ["on 1"], "2": ["on 2"], "3": ["on 3"]}
    assert client.calls["GET /tasks/{gid}/stories"] == 3


def test_read_only_view_hides_writes(fake: FakeAsana, client: AsanaClient) -> None:
    from tools.asana import ReadOnlyAsana

    view = ReadOnlyAsana(client)
    fake.script(ok({"gid": "7", "name": "x"}))
    assert view.task("7").gid == "7"
    for name in ("create_task", "update_task", "add_comment", "delete_task", "_one", "api"):
        with pytest.raises(AttributeError):
            getattr(view, name)
    with pytest.raises(AttributeError):
        view.calls = None
