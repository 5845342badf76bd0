"""Writes: request shapes as Asana expects them, through the real SDK."""

from __future__ import annotations

import pytest

from tests.asana_client.fake_asana import FakeAsana, Reply, Request, error, ok
from tools.asana import AsanaClient, SyncTokenExpired
from tools.asana.signatures import sign, verify


def created(data: dict, **extra: object) -> Reply:
    return Reply(201, {"data": data, **extra})


def test_create_task_body_and_subtask_route(fake: FakeAsana, client: AsanaClient) -> None:
    fake.script(created({"gid": "9", "name": "A"}))
    task = client.create_task(name="A", projects=["42"], custom_fields={"c1": 5}, due_on="2026-12-01")
    assert task.gid == "9"
    req = fake.requests[-1]
    assert (req.method, req.path) == ("POST", "/tasks")
    assert req.json == {
        "data": {
            "name": "A",
            "projects": ["42"],
            "notes": "",
            "due_on": "2026-12-01",
            "custom_fields": {"c1": 5},
        }
    }
    client.create_task(name="sub", parent_gid="9")
    assert fake.requests[-1].path == "/tasks/9/subtasks"
    client.create_task(name="loose", workspace_gid="w1")
    assert fake.requests[-1].json["data"]["workspace"] == "w1"


def test_update_and_delete(fake: FakeAsana, client: AsanaClient) -> None:
    fake.script(ok({"gid": "9", "completed": True}))
    assert client.update_task("9", {"completed": True}).completed is True
    assert (fake.requests[-1].method, fake.requests[-1].json) == ("PUT", {"data": {"completed": True}})
    fake.script(ok({}))
    client.delete_task("9")
    assert (fake.requests[-1].method, fake.requests[-1].path) == ("DELETE", "/tasks/9")


def test_section_quirk_body_arrives_as_json(fake: FakeAsana, client: AsanaClient) -> None:
    fake.script(created({"gid": "s1", "name": "Ready"}))
    assert client.create_section("42", "Ready").name == "Ready"
    req = fake.requests[-1]
    assert req.json == {"data": {"name": "Ready"}}
    assert "body" in req.query  # the SDK also sends it as a query parameter: servers must ignore it
    fake.script(ok({}))
    client.add_task_to_section("s1", "9")
    assert fake.requests[-1].json == {"data": {"task": "9"}}
    fake.script(ok({"gid": "s1", "name": "To Do"}))
    assert client.update_section("s1", "To Do").name == "To Do"
    req = fake.requests[-1]
    assert (req.method, req.path, req.json) == ("PUT", "/sections/s1", {"data": {"name": "To Do"}})


def test_membership_dependency_and_portfolio_bodies(fake: FakeAsana, client: AsanaClient) -> None:
    fake.script(ok({}))
    client.add_task_to_project("9", "42", section_gid="s1")
    client.remove_task_from_project("9", "42")
    client.add_dependencies("9", ["1", "2"])
    client.remove_dependencies("9", ["1"])
    client.add_dependents("9", ["3"])
    client.add_portfolio_item("pf", "42")
    got = [(r.path, r.json) for r in fake.requests]
    assert got == [
        ("/tasks/9/addProject", {"data": {"project": "42", "section": "s1"}}),
        ("/tasks/9/removeProject", {"data": {"project": "42"}}),
        ("/tasks/9/addDependencies", {"data": {"dependencies": ["1", "2"]}}),
        ("/tasks/9/removeDependencies", {"data": {"dependencies": ["1"]}}),
        ("/tasks/9/addDependents", {"data": {"dependents": ["3"]}}),
        ("/portfolios/pf/addItem", {"data": {"item": "42"}}),
    ]


def test_status_update_validates_type_before_sending(fake: FakeAsana, client: AsanaClient) -> None:
    with pytest.raises(ValueError):
        client.create_status_update("42", title="t", text="x", status_type="great")
    assert fake.requests == []
    fake.script(created({"gid": "u1", "status_type": "at_risk", "title": "t"}))
    assert (
        client.create_status_update("42", title="t", text="x", status_type="at_risk").status_type == "at_risk"
    )
    assert fake.requests[-1].json == {
        "data": {"parent": "42", "title": "t", "text": "x", "status_type": "at_risk"}
    }


def test_attachment_upload_is_multipart_with_our_content_type(fake: FakeAsana, client: AsanaClient) -> None:
    fake.script(created({"gid": "a1", "name": "report.md"}))
    att = client.upload_attachment("9", "report.md", b"# Sprint report\n", "text/markdown")
    assert att.name == "report.md"
    req = fake.requests[-1]
    assert req.headers["Content-Type"].startswith("multipart/form-data; boundary=")
    assert b'filename="report.md"' in req.raw
    assert b"Content-Type: text/markdown" in req.raw
    assert b"# Sprint report" in req.raw
    assert b'name="parent"' in req.raw


def test_webhook_secret_is_kept(fake: FakeAsana, client: AsanaClient) -> None:
    fake.script(
        created({"gid": "h1", "target": "https://x/hook", "active": True}, **{"X-Hook-Secret": "s3cr3t"})
    )
    hook, secret = client.create_webhook("42", "https://x/hook", filters=[{"resource_type": "task"}])
    assert (hook.gid, secret) == ("h1", "s3cr3t")
    assert fake.requests[-1].json["data"]["filters"] == [{"resource_type": "task"}]


def test_events_412_gives_fresh_sync_then_pages(fake: FakeAsana, client: AsanaClient) -> None:
    def handler(req: Request) -> Reply:
        if req.query.get("sync") != "s1":
            return Reply(412, {"errors": [{"message": "Sync token invalid or too old"}], "sync": "s1"})
        return Reply(
            200, {"data": [{"action": "changed", "resource": {"gid": "9"}}], "sync": "s2", "has_more": True}
        )

    fake.handler = handler
    with pytest.raises(SyncTokenExpired) as info:
        client.events("42")
    assert info.value.sync == "s1" and info.value.status == 412
    assert client.events_start("42") == "s1"
    page = client.events("42", sync="s1")
    assert (page.sync, page.has_more, page.events[0].resource.gid) == ("s2", True, "9")  # type: ignore[union-attr]
    assert fake.requests[-1].query["resource"] == "42"
    assert client.calls.retries == 0  # a 412 is an answer, not a failure


def test_signature_helpers() -> None:
    body = b'{"events":[]}'
    sig = sign("secret", body)
    assert verify("secret", body, sig)
    assert not verify("other", body, sig)
    assert not verify("secret", body + b" ", sig)
    assert not verify(None, body, sig) and not verify("secret", body, None)


def test_bad_request_on_write_not_retried(fake: FakeAsana, client: AsanaClient) -> None:
    fake.script(error(400, "dependencies: too many dependents and dependencies (max 30)"))
    from tools.asana import BadRequest

    with pytest.raises(BadRequest, match="max 30"):
        client.add_dependencies("9", ["1"])
    assert len(fake.requests) == 1
