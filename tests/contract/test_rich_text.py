"""Rich text (`html_text`, `html_notes`) from our markdown converter, as Asana takes it.

Asana (developers.asana.com/docs/rich-text): one `<body>` root, valid XML, the documented tags;
the plain `text`/`notes` comes back derived from it. These run against the sandbox by default and
against real Asana with ASANA_TOKEN/ASANA_WORKSPACE, which is how the converter's choices (common
tags in comments and status updates; headers and tables in task notes) are checked for real.
"""

from __future__ import annotations

import httpx
import pytest

from tests.contract.conftest import Scratch, Target
from tools.asana import AsanaClient, BadRequest
from tools.asana.fields import TaskView
from tools.asana.richtext import html_to_text, markdown_to_html

pytestmark = pytest.mark.contract
MARK = "⟨sp:0123456789⟩"
REPORT = (
    "[AI Proposal] Backlog refinement\n\n"
    "## Estimate\n"
    "**Estimate:** 3 story points (*confidence* 0.8) & `a < b`\n"
    "- first criterion\n"
    "- second [criterion](https://example.com/spec?a=1&b=2)\n\n"
    "| Task | Points |\n|---|---:|\n| Login | 3 |\n| **Total** | **3** |"
)


def _opt_in(target: Target, path: str, field: str) -> str:
    """An opt-in field (`html_text`) read the way an integration would."""
    reply = httpx.get(
        f"{target.base_url}{path}",
        params={"opt_fields": field},
        headers={"Authorization": f"Bearer {target.token}"},
        timeout=30,
    )
    reply.raise_for_status()
    value: str = reply.json()["data"][field]
    return value


def test_markdown_comment_arrives_formatted(client: AsanaClient, scratch: Scratch, target: Target) -> None:
    task = scratch.task(scratch.project("rich comment"))
    html = markdown_to_html(REPORT, target="story", trailer=MARK)
    story = client.add_comment(task.gid, html_text=html)
    text = story.text or ""
    assert text.startswith("[AI Proposal] Backlog refinement") and text.rstrip().endswith(MARK)
    assert "**" not in text and "##" not in text and "<strong>" not in text
    assert "Estimate: 3 story points (confidence 0.8) & a < b" in text
    stored = _opt_in(target, f"/stories/{story.gid}", "html_text")
    assert stored.startswith("<body>") and stored.endswith("</body>")
    for tag in ("<strong>", "<em>", "<code>", "<ul>", "<li>", "<pre>", '<a href="https://example.com/'):
        assert tag in stored, tag
    listed = [s for s in client.stories(task.gid) if s.is_comment]
    assert [s.gid for s in listed] == [story.gid] and MARK in (listed[0].text or "")


def test_markdown_status_update_arrives_formatted(
    client: AsanaClient, scratch: Scratch, target: Target
) -> None:
    project = scratch.project("rich status")
    html = markdown_to_html(REPORT, target="status_update", trailer=MARK)
    update = client.create_status_update(
        project.gid, title="Health", text=html_to_text(html), html_text=html, status_type="at_risk"
    )
    (listed,) = client.status_updates(project.gid)
    text = listed.text or ""
    assert listed.gid == update.gid and MARK in text
    assert "**" not in text and "##" not in text
    stored = _opt_in(target, f"/status_updates/{update.gid}", "html_text")
    assert "<strong>Estimate:</strong>" in stored and "<ul>" in stored


def test_markdown_task_notes_take_headers_and_tables(client: AsanaClient, scratch: Scratch) -> None:
    task = scratch.task(scratch.project("rich notes"))
    html = markdown_to_html(REPORT, target="notes", trailer=MARK)
    updated = client.update_task(task.gid, {"html_notes": html}, view=TaskView.DETAIL)
    notes = updated.notes or ""
    assert "<h2>" in (updated.html_notes or "") and "<table>" in (updated.html_notes or "")
    assert "**" not in notes and "##" not in notes and MARK in notes


@pytest.mark.parametrize(
    "html",
    [
        "<body>unclosed <strong>bold</body>",
        "no root at all",
        "<body>a & b</body>",
    ],
)
def test_malformed_rich_text_is_a_400(client: AsanaClient, scratch: Scratch, html: str) -> None:
    task = scratch.task(scratch.project("rich malformed"))
    with pytest.raises(BadRequest) as info:
        client.add_comment(task.gid, html_text=html)
    assert info.value.status == 400 and info.value.message
    assert not [s for s in client.stories(task.gid) if s.is_comment]


def test_undocumented_tags_are_a_400(client: AsanaClient, scratch: Scratch, target: Target) -> None:
    target.require_sandbox("Asana's docs do not say whether it rejects or strips undocumented tags")
    task = scratch.task(scratch.project("rich tags"))
    with pytest.raises(BadRequest):
        client.add_comment(task.gid, html_text="<body><script>alert(1)</script></body>")
    with pytest.raises(BadRequest):
        client.add_comment(task.gid, html_text="<body><h1>headers are for task notes</h1></body>")


def test_comment_takes_exactly_one_of_text_and_html_text(client: AsanaClient) -> None:
    with pytest.raises(ValueError):
        client.add_comment("1", "plain", html_text="<body>rich</body>")
    with pytest.raises(ValueError):
        client.add_comment("1")
