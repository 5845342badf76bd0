"""Comments and status updates go to Asana as rich text, and the crash-window probe still finds them.

Issue 16 point 9: markdown in the plain `text` showed raw in Asana. The kinds now send `html_text`
converted from the markdown params (which stay markdown: that is what an approver reads), with the
ledger marker as a paragraph of its own, so the plain `text` Asana derives still carries it.
Checked against the sandbox over HTTP through the real typed client.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from graphs.kinds.reports import PostComment, PostCommentParams, PostStatusUpdate, PostStatusUpdateParams
from graphs.kinds.spec import WriteContext
from graphs.probe import marker
from sandbox.server import SandboxServer
from sandbox.store import Store
from tests.graphs.fakes import FakeAsana
from tools.asana.client import AsanaClient
from tools.asana.models import Task

pytestmark = pytest.mark.integration
TOKEN = "tok-rich"
KEY = "0123456789abcdef" * 4
REPORT = (
    "[AI Proposal] Sprint 24 health\n\n"
    "## Summary\n"
    "**Health:** 72/100 (*watch*)\n"
    "- scope creep: `+8 pts`\n"
    "- <script>alert(1)</script> & friends\n\n"
    "| Component | Score |\n|---|---:|\n| Velocity | 80 |\n| **Health** | **72** |"
)


@pytest.fixture
def env() -> Iterator[tuple[AsanaClient, dict[str, str]]]:
    s = Store()
    ws = s.add_workspace("Acme").gid
    bot = s.add_user("sprintpilot", "bot@acme.test", workspaces=[ws]).gid
    s.add_token(TOKEN, bot)
    project = s.add_project(ws, "Sprint 24").gid
    task = s.add_task(ws, "Login page", projects=[project]).gid
    with SandboxServer(s, TOKEN) as server, AsanaClient(server.base_url, TOKEN) as client:
        yield client, {"ws": ws, "project": project, "task": task}


def _context(asana: Any, g: dict[str, str]) -> WriteContext:
    return WriteContext(
        asana=asana,
        reads=asana,
        workspace_gid=g["ws"],
        allowed_project_gids=frozenset({g["project"]}),
        key=KEY,
    )


def _assert_rendered(html: str | None, text: str | None) -> None:
    assert html is not None and text is not None
    assert "<strong>Summary</strong>" in html and "<strong>Health:</strong>" in html
    assert "<ul><li>scope creep: <code>+8 pts</code></li>" in html and "<em>watch</em>" in html
    assert "<pre>" in html and "&lt;script&gt;" in html and "<script>" not in html
    assert "**" not in text and "##" not in text and "|---" not in text
    assert "Health: 72/100 (watch)\n• scope creep: +8 pts\n• <script>alert(1)</script> & friends" in text
    assert text.startswith("[AI Proposal] Sprint 24 health") and text.endswith(f"\n{marker(KEY)}")


def test_comment_arrives_as_rich_text_and_is_found_by_its_marker(
    env: tuple[AsanaClient, dict[str, str]],
) -> None:
    client, g = env
    spec, params = PostComment(), PostCommentParams(text=REPORT)
    gid = spec.write(_context(client, g), g["task"], params)
    assert gid is not None
    (story,) = [s for s in client.stories(g["task"]) if s.is_comment]
    assert story.gid == gid
    _assert_rendered(_html_text(client, f"/stories/{gid}"), story.text)
    assert params.text == REPORT  # the params (what an approver reads) stay markdown
    assert spec.probe(client, g["task"], params, marker(KEY), g["ws"]) == gid
    assert spec.probe(client, g["task"], params, marker("f" * 64), g["ws"]) is None


def test_status_update_arrives_as_rich_text_and_is_found_by_its_marker(
    env: tuple[AsanaClient, dict[str, str]],
) -> None:
    client, g = env
    spec = PostStatusUpdate()
    params = PostStatusUpdateParams(title="Health", text=REPORT, status_type="at_risk")
    gid = spec.write(_context(client, g), g["project"], params)
    (update,) = client.status_updates(g["project"])
    assert update.gid == gid and update.status_type == "at_risk"
    _assert_rendered(_html_text(client, f"/status_updates/{gid}"), update.text)
    assert spec.probe(client, g["project"], params, marker(KEY), g["ws"]) == gid


def test_a_marker_already_in_the_text_is_not_repeated(env: tuple[AsanaClient, dict[str, str]]) -> None:
    client, g = env
    text = f"Done.\n\n{marker(KEY)}"
    gid = PostComment().write(_context(client, g), g["task"], PostCommentParams(text=text))
    (story,) = [s for s in client.stories(g["task"]) if s.is_comment]
    assert story.gid == gid and story.text == text


def test_the_test_double_stores_what_asana_would() -> None:
    fake, task = FakeAsana(), "t1"
    fake.tasks[task] = Task(gid=task, name="Login page")
    g = {"ws": "1000", "project": "p", "task": task}
    gid = PostComment().write(_context(fake, g), task, PostCommentParams(text=REPORT))
    (story,) = fake.story_log[task]
    assert story.gid == gid
    _assert_rendered(story.html_text, story.text)


def _html_text(client: AsanaClient, path: str) -> str | None:
    """`html_text` is opt-in and the typed reads do not ask for it: read it as an integration would."""
    reply = httpx.get(
        f"{client.base_url}{path}",
        params={"opt_fields": "html_text"},
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=10,
    )
    reply.raise_for_status()
    value: str | None = reply.json()["data"]["html_text"]
    return value
