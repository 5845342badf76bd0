"""Stories, status updates, portfolios and attachments."""

from __future__ import annotations

import pytest

from tests.contract.conftest import RUN, Scratch, Target
from tools.asana import AsanaClient, BadRequest, PaymentRequired

pytestmark = pytest.mark.contract


def test_comment_and_system_stories(client: AsanaClient, scratch: Scratch) -> None:
    project = scratch.project("stories")
    section = client.create_section(project.gid, "In Progress")
    task = scratch.task(project, name="Old name")
    comment = client.add_comment(task.gid, "Blocked by the API team")
    assert comment.type == "comment" and comment.text == "Blocked by the API team"
    client.update_task(task.gid, {"name": "New name"})
    client.add_task_to_section(section.gid, task.gid)
    client.update_task(task.gid, {"completed": True})
    stories = client.stories(task.gid)
    assert [s.gid for s in stories if s.is_comment] == [comment.gid]
    system = [s for s in stories if s.type == "system"]
    assert system, "changes must leave system stories"
    assert all(s.created_at is not None for s in stories)
    assert stories == sorted(stories, key=lambda s: s.created_at or 0)  # oldest first
    renamed = [s for s in system if s.resource_subtype == "name_changed"]
    if renamed:  # structured fields are optional extras on real Asana
        assert renamed[-1].new_name == "New name"
    assert any(s.resource_subtype == "marked_complete" for s in system)


def test_status_updates(client: AsanaClient, scratch: Scratch) -> None:
    project = scratch.project("status")
    update = client.create_status_update(
        project.gid, title="Sprint 24 mid-point", text="Two risks", status_type="at_risk"
    )
    assert (update.title, update.status_type) == ("Sprint 24 mid-point", "at_risk")
    listed = client.status_updates(project.gid)
    assert update.gid in {u.gid for u in listed}
    assert next(u for u in listed if u.gid == update.gid).text == "Two risks"


def test_portfolio_items(client: AsanaClient, scratch: Scratch, target: Target) -> None:
    try:
        portfolio = client.create_portfolio(target.workspace_gid, f"sprintpilot-contract portfolio {RUN}")
    except PaymentRequired as err:
        pytest.skip(f"portfolios need a premium workspace: {err}")
    scratch.cleanups.append(lambda: client.delete_portfolio(portfolio.gid))
    assert client.portfolio(portfolio.gid).name == portfolio.name
    first, second = scratch.project("portfolio item 1"), scratch.project("portfolio item 2")
    client.add_portfolio_item(portfolio.gid, first.gid)
    client.add_portfolio_item(portfolio.gid, second.gid)
    assert {p.gid for p in client.portfolio_items(portfolio.gid)} == {first.gid, second.gid}
    client.remove_portfolio_item(portfolio.gid, first.gid)
    assert [p.gid for p in client.portfolio_items(portfolio.gid)] == [second.gid]


def test_generated_portfolio_holds_backlog_and_sprints(client: AsanaClient, target: Target) -> None:
    target.require_sandbox("the 'Mobile Portfolio' exists only in the generated workspace")
    generated = target.server.generated
    items = {p.name for p in client.portfolio_items(generated.portfolio_gid)}
    assert client.portfolio(generated.portfolio_gid).name == "Mobile Portfolio"
    assert "Product Backlog" in items and sum(1 for n in items if n and n.startswith("Sprint ")) >= 6


def test_attachments(client: AsanaClient, scratch: Scratch) -> None:
    task = scratch.task(scratch.project("attachments"))
    data = b"# Retro\n- went well: demo\n"
    att = client.upload_attachment(task.gid, "retro.md", data, "text/markdown")
    assert att.name == "retro.md"
    listed = client.attachments(task.gid)
    assert [a.gid for a in listed] == [att.gid]
    assert listed[0].name == "retro.md"


def test_malformed_input_gets_asana_errors(client: AsanaClient, scratch: Scratch, target: Target) -> None:
    with pytest.raises(BadRequest) as info:
        client.create_task(name="no container")  # neither workspace, projects nor parent
    assert info.value.status == 400 and info.value.message
    task = scratch.task(scratch.project("malformed"))
    with pytest.raises(BadRequest):
        client.update_task(task.gid, {"due_on": "not a date"})
    with pytest.raises(BadRequest):
        client.update_task(task.gid, {"completed": "yes please"})
    with pytest.raises(BadRequest):
        client.create_status_update(task.gid, title="x", text="x", status_type="on_track")  # tasks have none


@pytest.mark.parametrize(
    ("method", "path", "content"),
    [
        ("POST", "/tasks", b"{not json"),
        ("POST", "/tasks", b'["a list, not an object"]'),
        ("PUT", "/tasks/1", b'{"data": "not an object"}'),
        ("GET", "/projects/not-a-gid", b""),
    ],
)
def test_malformed_http_gets_asana_style_errors(
    target: Target, method: str, path: str, content: bytes
) -> None:
    import httpx

    response = httpx.request(
        method,
        f"{target.base_url}{path}",
        content=content,
        headers={"Authorization": f"Bearer {target.token}", "Content-Type": "application/json"},
        timeout=30,
    )
    assert 400 <= response.status_code < 500
    errors = response.json()["errors"]
    assert isinstance(errors, list) and errors and all(isinstance(e["message"], str) for e in errors)
