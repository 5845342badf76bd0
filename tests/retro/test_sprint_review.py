"""Issue 21 part 3: the sprint review document, end to end on the seeded embedded sandbox.

The run proposes the document and the status update that links it; both wait for approval (the
default class of `attach_document`); after approval the sandbox holds the HTML (fetched through its
signed download URL) and the status update links the attachment's permanent URL. Text from Asana is
escaped in the document, a re-run on the unchanged sprint proposes nothing, and the class is
configurable.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from agents.retro import sprint_review_specialist
from agents.retro.review_inputs import epic_of
from graphs.registry import SpecialistRegistry
from graphs.runner import pending_interrupt, start_run
from service.approvals import build_decisions, decide, find_proposal
from service.runtime import Runtime, open_runtime
from service.schedules.sprint_review import run_end_of_sprint_reviews
from service.settings import load_settings
from tools.asana.models import Task
from tools.retro.review_doc import ReviewTask, build_review, demo_notes, render_html, slip_reasons

pytestmark = pytest.mark.usefixtures("offline_env")

INJECTED = '<script>alert("x")</script> Users can now <b>export</b> reports & demo it. <img src=x onerror=1>'
DAY_AFTER = date(2026, 11, 21)  # Sprint 23 ran 2026-11-09 → 11-20


def _review(rt: Runtime, today: date) -> tuple[dict[str, Any] | None, Any]:
    now = datetime(today.year, today.month, today.day, 9, tzinfo=UTC)
    ws = rt.resolve_workspace()
    ctx = rt.context(
        actor="agent:sprint_review", approver_gid=rt.approver_for(ws, "Product Backlog"), now=lambda: now
    )
    out = start_run(
        rt.graph, ctx, uuid.uuid4().hex, {"agent": "sprint_review", "args": {"project": "Sprint 23"}}
    )
    pid = out.interrupt["proposal_id"] if out.interrupt else (out.report or {}).get("proposal_id")
    assert pid, out.report
    return out.interrupt, find_proposal(rt, pid)


def _comment_as_teammate(rt: Runtime, task_gid: str, text: str) -> None:
    """A comment by a human teammate (sprintpilot's own comments are not the team's voice)."""
    assert rt.sandbox is not None
    me = rt.asana.me().gid
    token = next(t for t, gid in rt.sandbox.store.tokens.items() if gid != me)
    url = f"{rt.sandbox.base_url}/tasks/{task_gid}/stories"
    resp = httpx.post(url, headers={"Authorization": f"Bearer {token}"}, json={"data": {"text": text}})
    assert resp.status_code == 201, resp.text


def _reviews(rt: Runtime, project_gid: str) -> list[Any]:
    return [
        a for a in rt.asana.attachments(project_gid) if (a.name or "").startswith("Sprint 23 sprint review")
    ]


def test_review_waits_then_attaches_escaped_html_linked_from_a_status_update(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, asana_base_url=None, model="offline")
    with open_runtime(settings, registry=SpecialistRegistry([sprint_review_specialist()])) as rt:
        ws = rt.resolve_workspace()
        sprint = rt.asana.find_project(ws, "Sprint 23")
        tasks = [t for t in rt.asana.project_tasks(sprint.gid) if t.resource_subtype != "approval"]
        done = next(t for t in tasks if t.completed)
        slipped = next(t for t in tasks if not t.completed)
        rt.asana.update_task(done.gid, {"notes": INJECTED})
        _comment_as_teammate(
            rt, slipped.gid, "Waiting for the vendor's sandbox keys </li><script>x()</script>"
        )

        interrupt, record = _review(rt, DAY_AFTER)
        assert interrupt is not None
        proposal = record.proposal
        mine = proposal.actions[:2]  # then the gate's approval task and its comment
        assert [a.kind.value for a in mine] == ["attach_document", "post_status_update"]
        assert {a.approval_class.value for a in mine if a.approval_class} == {"needs_approval"}
        assert _reviews(rt, sprint.gid) == []  # nothing written before approval
        evidence = proposal.evidence
        assert evidence["numbers"]["done_items"] == sum(1 for t in tasks if t.completed)
        # The seed tags every task with its skill: the review groups the done work by those epics.
        epic_names = {e["name"] for e in evidence["epics"]}
        assert epic_names == {t.tags[0].name for t in tasks if t.completed and t.tags}

        result = decide(rt, record, build_decisions(interrupt), "alice", interrupt.get("digest"))
        assert result.status == "done", result.report
        attached = _reviews(rt, sprint.gid)
        assert len(attached) == 1 and attached[0].name == evidence["document"]
        assert attached[0].download_url
        body = httpx.get(attached[0].download_url).text
        assert body.startswith("<!DOCTYPE html>") and "default-src 'none'" in body
        assert "<script" not in body and "<img" not in body and "<b>" not in body
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in body
        assert "&lt;/li&gt;&lt;script&gt;x()&lt;/script&gt;" in body  # the slipped task's last comment
        assert all(u.startswith("https://app.asana.com/") for u in re.findall(r"https?://[^\s\"<]+", body))
        for name in epic_names:
            assert f"<h3>{name} " in body
        assert "What slipped, and why" in body and "Written by offline templates" in body

        updates = rt.asana.status_updates(sprint.gid)
        linked = [u for u in updates if (u.title or "") == "Sprint 23 sprint review"]
        assert len(linked) == 1
        assert attached[0].permanent_url and attached[0].permanent_url in (linked[0].text or "")

        # The same sprint again, nothing changed: nothing is proposed, nothing written.
        interrupt, again = _review(rt, DAY_AFTER)
        assert interrupt is None and again.proposal.actions == []
        assert len(_reviews(rt, sprint.gid)) == 1
        assert (
            len([u for u in rt.asana.status_updates(sprint.gid) if u.title == "Sprint 23 sprint review"]) == 1
        )


def test_the_end_of_sprint_sweep_starts_one_review_per_ended_sprint(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, asana_base_url=None, model="offline")
    day_after = datetime(2026, 11, 21, 18, tzinfo=UTC)
    with open_runtime(settings, registry=SpecialistRegistry([sprint_review_specialist()])) as rt:
        started = run_end_of_sprint_reviews(rt, now=lambda: day_after)
        assert len(started) == 1  # Sprint 23; Sprint 22 ended more than a week before
        waiting = pending_interrupt(rt.graph, started[0])
        assert waiting is not None and waiting["title"] == "Approve the Sprint 23 sprint review"
        assert run_end_of_sprint_reviews(rt, already_started=lambda gid: True, now=lambda: day_after) == []


def test_the_document_class_is_configurable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPRINTPILOT_APPROVAL_POLICY", '{"kinds": {"attach_document": "auto"}}')
    settings = load_settings(data_dir=tmp_path, asana_base_url=None, model="offline")
    with open_runtime(settings, registry=SpecialistRegistry([sprint_review_specialist()])) as rt:
        sprint = rt.asana.find_project(rt.resolve_workspace(), "Sprint 23")
        interrupt, record = _review(rt, DAY_AFTER)
        assert interrupt is None  # auto: published without waiting
        assert [
            (a.kind.value, a.approval_class.value if a.approval_class else None)
            for a in record.proposal.actions
        ] == [
            ("attach_document", "auto"),
            ("post_status_update", "auto"),
        ]
        assert len(_reviews(rt, sprint.gid)) == 1


def test_grouping_reasons_and_demo_notes() -> None:
    t = ReviewTask
    tasks = [
        t(
            gid="1",
            name="Pay by card",
            epic="Payments",
            points=5,
            completed=True,
            notes="Users can now pay. Internal.",
        ),
        t(gid="2", name="Refunds", epic="Payments", points=3, completed=True),
        t(
            gid="3",
            name="Dark mode",
            epic="UI",
            points=9,
            completed=True,
            comments=["Merged and deployed to staging"],
        ),
        t(
            gid="4",
            name="Sync",
            epic="UI",
            points=2,
            status="Blocked",
            blocked_days=3,
            still_blocked=True,
            started=True,
        ),
        t(gid="5", name="Export", points=1, added_mid_sprint=True, waiting_on=["Sync"], due_moves=2),
    ]
    review = build_review("Sprint 9", date(2026, 1, 5), date(2026, 1, 16), tasks)
    assert [(g.name, g.points) for g in review.delivered] == [("UI", 9.0), ("Payments", 8.0)]
    assert review.numbers["slipped_points"] == 3.0
    reasons = {s.task.gid: s.reasons for s in review.slipped}
    assert reasons["4"][0] == "still blocked at the sprint end (3 days)"
    assert reasons["5"] == [
        "waiting on unfinished work: Sync",
        "added after the sprint started (scope change)",
        "due date moved 2 times",
        "never started",
    ]
    assert slip_reasons(t(gid="6", name="x", started=True)) == ["no reason recorded in Asana"]
    assert demo_notes("Users can now pay. Internal.", []) == ["Users can now pay."]
    assert demo_notes("", ["LGTM", "Merged and deployed"]) == ["Merged and deployed"]
    html = render_html(review, "offline templates")
    assert html.index("<h3>UI ") < html.index("<h3>Payments ")


def test_epic_is_the_parent_then_the_epic_field_then_a_tag() -> None:
    base = {"gid": "1", "name": "x", "tags": [{"gid": "9", "name": "mobile"}]}
    assert (
        epic_of(Task.model_validate({**base, "parent": {"gid": "7"}}), {"7": "Checkout revamp"})
        == "Checkout revamp"
    )
    field = {
        "gid": "5",
        "name": "Epic",
        "resource_subtype": "text",
        "text_value": "Onboarding",
        "display_value": "Onboarding",
    }
    assert epic_of(Task.model_validate({**base, "custom_fields": [field]}), {}) == "Onboarding"
    assert epic_of(Task.model_validate(base), {}) == "mobile"
    assert epic_of(Task.model_validate({"gid": "1", "name": "x"}), {}) == "No epic"
