"""Rich text on write: `html_text` on stories and status updates, `html_notes` on tasks and projects.

Asana (developers.asana.com/docs/rich-text): valid XML under one `<body>` root, only the documented
tags; the plain `text`/`notes` is derived from it. Invalid rich text is a 400 in Asana's error
shape and changes nothing.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from sandbox.richtext import parse, plain_text
from tests.sandbox.conftest import Mini

INVALID = [
    "no body at all",
    "<body>unclosed <strong>bold</body>",
    "<body>one</body><body>two</body>",
    "<div>wrong root</div>",
    "<body><script>alert(1)</script></body>",
    "<body><p>paragraph</p></body>",
    "<body>line<br/>break</body>",
    "<body>&nbsp;</body>",
    "<body>a & b</body>",
    '<body><a href="https://x" onclick="steal()">x</a></body>',
    "<body><strong><ul><li>a list inside bold</li></ul></strong></body>",
    "<body><ul>text straight in a list<li>a</li></ul></body>",
    '<!DOCTYPE body [<!ENTITY x "y">]><body>&x;</body>',
    "<body><h1>headers are task-notes only</h1></body>",
    "<body><table><tr><td>tables too</td></tr></table></body>",
]


def _error(response: httpx.Response) -> str:
    assert response.status_code == 400, response.text
    errors = response.json()["errors"]
    assert isinstance(errors, list) and len(errors) == 1
    message: str = errors[0]["message"]
    return message


def _task(http: httpx.Client, mini: Mini, **data: Any) -> dict[str, Any]:
    response = http.post("/tasks", json={"data": {"name": "Rich", "projects": [mini.project], **data}})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()["data"]
    return body


@pytest.mark.parametrize("html", INVALID)
def test_invalid_comment_html_is_a_400_and_posts_nothing(http: httpx.Client, mini: Mini, html: str) -> None:
    task = _task(http, mini)
    response = http.post(f"/tasks/{task['gid']}/stories", json={"data": {"html_text": html}})
    assert _error(response).startswith("html_text: ")
    stories = http.get(f"/tasks/{task['gid']}/stories", params={"opt_fields": "type"}).json()["data"]
    assert not [s for s in stories if s["type"] == "comment"]


def test_valid_comment_html_is_kept_and_its_text_derived(http: httpx.Client, mini: Mini) -> None:
    task = _task(http, mini)
    html = (
        "<body><strong>Estimate:</strong> 3 pts &amp; <em>low</em> risk &lt;ok&gt;\n"
        '<ul><li>first <a href="https://example.com/a?b=1&amp;c=2">link</a></li>'
        "<li>second<ol><li>nested</li></ol></li></ul>\n"
        "<pre>x = 1</pre>\n<blockquote>quoted</blockquote>\n\n⟨sp:0123456789⟩</body>"
    )
    response = http.post(
        f"/tasks/{task['gid']}/stories",
        json={"data": {"html_text": html}},
        params={"opt_fields": "text,html_text,type"},
    )
    assert response.status_code == 201, response.text
    story = response.json()["data"]
    assert story["html_text"] == html
    assert story["text"] == (
        "Estimate: 3 pts & low risk <ok>\n• first link\n• second\n  1. nested\n"
        "x = 1\nquoted\n\n⟨sp:0123456789⟩"
    )
    fetched = http.get(f"/stories/{story['gid']}", params={"opt_fields": "text,html_text"}).json()["data"]
    assert (fetched["text"], fetched["html_text"]) == (story["text"], html)


def test_comment_takes_text_or_html_text_not_both(http: httpx.Client, mini: Mini) -> None:
    task = _task(http, mini)
    both = {"text": "plain", "html_text": "<body>rich</body>"}
    response = http.post(f"/tasks/{task['gid']}/stories", json={"data": both})
    assert _error(response).startswith("text: ")
    response = http.post(f"/tasks/{task['gid']}/stories", json={"data": {"html_text": 42}})
    assert _error(response) == "html_text: Value is not a string"


def test_story_update_validates_html_text(http: httpx.Client, mini: Mini) -> None:
    task = _task(http, mini)
    story = http.post(f"/tasks/{task['gid']}/stories", json={"data": {"text": "draft"}}).json()["data"]
    bad = http.put(f"/stories/{story['gid']}", json={"data": {"html_text": "<body><font>x</font></body>"}})
    assert _error(bad).startswith("html_text: ")
    fields = {"opt_fields": "text,html_text"}
    assert http.get(f"/stories/{story['gid']}", params=fields).json()["data"]["text"] == "draft"
    good = http.put(
        f"/stories/{story['gid']}",
        json={"data": {"html_text": "<body><s>draft</s> final</body>"}},
        params=fields,
    )
    assert good.status_code == 200, good.text
    assert good.json()["data"]["text"] == "draft final"
    assert good.json()["data"]["html_text"] == "<body><s>draft</s> final</body>"


def test_status_update_html_text(http: httpx.Client, mini: Mini) -> None:
    data = {"parent": mini.project, "title": "Mid-sprint", "status_type": "at_risk", "text": "Two risks"}
    bad = http.post("/status_updates", json={"data": {**data, "html_text": "<body><h2>Risks</h2></body>"}})
    assert _error(bad).startswith("html_text: ")
    assert http.get("/status_updates", params={"parent": mini.project}).json()["data"] == []
    html = "<body><strong>Risks</strong>\n<ul><li>API late</li><li>QA short</li></ul></body>"
    response = http.post(
        "/status_updates",
        json={"data": {**data, "html_text": html}},
        params={"opt_fields": "text,html_text"},
    )
    assert response.status_code == 201, response.text
    update = response.json()["data"]
    assert update["html_text"] == html
    assert update["text"] == "Risks\n• API late\n• QA short"


def test_task_html_notes_take_the_notes_tags(http: httpx.Client, mini: Mini) -> None:
    bad = http.post(
        "/tasks",
        json={"data": {"name": "x", "projects": [mini.project], "html_notes": "<body><p>x</p></body>"}},
    )
    assert _error(bad).startswith("html_notes: ")
    html = (
        "<body><h1>Goal</h1>\nShip it\n<hr/><table><tr><td>a</td><td>b</td></tr></table>\n"
        "<ul><li>one</li></ul></body>"
    )
    task = _task(http, mini, html_notes=html)
    fields = {"opt_fields": "notes,html_notes"}
    got = http.get(f"/tasks/{task['gid']}", params=fields).json()["data"]
    assert got["html_notes"] == html
    assert got["notes"] == "Goal\nShip it\n———\na | b\n• one"
    # An update with invalid rich notes changes nothing; plain notes replace the rich ones.
    bad = http.put(f"/tasks/{task['gid']}", json={"data": {"html_notes": "<body><h3>no</h3></body>"}})
    assert _error(bad).startswith("html_notes: ")
    assert http.get(f"/tasks/{task['gid']}", params=fields).json()["data"]["html_notes"] == html
    http.put(f"/tasks/{task['gid']}", json={"data": {"notes": "plain <now>"}})
    got = http.get(f"/tasks/{task['gid']}", params=fields).json()["data"]
    assert got == {"gid": task["gid"], "notes": "plain <now>", "html_notes": "<body>plain &lt;now&gt;</body>"}


def test_task_html_notes_update_leaves_one_notes_changed_story(http: httpx.Client, mini: Mini) -> None:
    task = _task(http, mini, notes="old")
    response = http.put(f"/tasks/{task['gid']}", json={"data": {"html_notes": "<body><em>new</em></body>"}})
    assert response.status_code == 200, response.text
    stories = http.get(f"/tasks/{task['gid']}/stories", params={"opt_fields": "resource_subtype"}).json()
    assert [s["resource_subtype"] for s in stories["data"]].count("notes_changed") == 1
    got = http.get(f"/tasks/{task['gid']}", params={"opt_fields": "notes"}).json()["data"]
    assert got["notes"] == "new"


def test_project_html_notes(http: httpx.Client, mini: Mini) -> None:
    payload = {
        "workspace": mini.ws,
        "name": "Rich project",
        "html_notes": "<body><h2>Why</h2>\nBecause</body>",
    }
    team = mini.store.add_team(mini.ws, "Product").gid  # projects in an organization need a team
    created = http.post(
        f"/teams/{team}/projects", json={"data": payload}, params={"opt_fields": "notes,html_notes"}
    )
    assert created.status_code == 201, created.text
    project = created.json()["data"]
    assert (project["notes"], project["html_notes"]) == ("Why\nBecause", payload["html_notes"])
    bad = http.put(f"/projects/{project['gid']}", json={"data": {"html_notes": "<body>x</body"}})
    assert _error(bad).startswith("html_notes: ")
    http.put(f"/projects/{project['gid']}", json={"data": {"notes": "plain"}})
    got = http.get(f"/projects/{project['gid']}", params={"opt_fields": "notes,html_notes"}).json()["data"]
    assert (got["notes"], got["html_notes"]) == ("plain", "<body>plain</body>")


def test_plain_text_resolves_entities_and_mentions() -> None:
    root = parse(
        '<body>&#169; &quot;q&quot; <a data-asana-gid="42" href="https://app.asana.com/0/42"/></body>',
        "story",
    )
    assert plain_text(root) == '© "q" https://app.asana.com/0/42'
