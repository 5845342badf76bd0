"""QA event routes: structured matching, the readiness filter, one run per entry into review."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agents.qa import qa_specialist
from graphs.registry import SpecialistRegistry
from sandbox.server import SandboxServer
from service.events.router import EventFacts, Route, match_route
from service.events.routes_qa import HANDLER_NAME, ROUTES, THREAD_ROUTE, install, qa_review
from service.runtime import Runtime, open_runtime
from service.settings import load_settings
from service.worker.handlers import EventWork, route_args
from tests.qa.world import TOKEN, QaWorld, build_store
from tools.asana.client import AsanaClient

pytestmark = pytest.mark.integration


def facts(
    gid: str, *, action: str, parent: dict[str, str] | None = None, field: str | None = None
) -> EventFacts:
    payload: dict[str, Any] = {"action": action, "resource": {"gid": gid, "resource_type": "task"}}
    if parent:
        payload["parent"] = parent
    if field:
        payload["change"] = {"field": field, "action": "changed"}
    return EventFacts.from_payload(payload)


def test_routes_match_structured_fields_only() -> None:
    section = facts("1", action="added", parent={"gid": "9", "resource_type": "section"})
    fields = facts("1", action="changed", field="custom_fields")
    assert match_route(section, ROUTES).name == "qa_section_added"  # type: ignore[union-attr]
    assert match_route(fields, ROUTES).name == "qa_status_changed"  # type: ignore[union-attr]
    assert match_route(facts("1", action="changed", field="notes"), ROUTES) is None
    assert (
        match_route(facts("1", action="added", parent={"gid": "2", "resource_type": "project"}), ROUTES)
        is None
    )


def test_install_is_idempotent_on_given_tables() -> None:
    table: list[Route] = []
    handlers: dict[str, Any] = {}
    install(routes=table, handlers=handlers)
    install(routes=table, handlers=handlers)
    assert [r.name for r in table] == ["qa_section_added", "qa_status_changed"]
    assert handlers[HANDLER_NAME] is qa_review and THREAD_ROUTE in route_args


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[QaWorld, Runtime]]:
    store, g = build_store()
    with SandboxServer(store, TOKEN) as server, AsanaClient(server.base_url, TOKEN) as asana:
        w = QaWorld(store=store, server=server, asana=asana, **g)
        settings = load_settings(
            data_dir=tmp_path,
            asana_base_url=server.base_url,
            asana_token=TOKEN,
            database_url=None,
            model="offline",
        )
        with open_runtime(settings, registry=SpecialistRegistry([qa_specialist()])) as rt:
            yield w, rt


def work(rt: Runtime, f: EventFacts, route_name: str, key: str) -> EventWork:
    route = next(r for r in ROUTES if r.name == route_name)
    return EventWork(rt=rt, facts=f, route=route, inbox_id=1, dedup_key=key, lock_wait_s=2.0)


def test_entry_into_review_runs_once_and_other_changes_are_skipped(live: tuple[QaWorld, Runtime]) -> None:
    w, rt = live
    gid = w.task(
        "Password reset",
        section="In Progress",
        status="In Progress",
        subtasks=(
            ("Send the reset email within one minute", True),
            ("Expire the reset link after 24 hours", True),
        ),
        comments=("Verified the password strength rules are enforced on the new password",),
    )
    # Moving into another section, or a field change while not in review: no run.
    other = facts(gid, action="added", parent={"gid": w.sections["In Progress"], "resource_type": "section"})
    assert qa_review(work(rt, other, "qa_section_added", "e0")).status == "skipped"
    assert (
        qa_review(
            work(rt, facts(gid, action="changed", field="custom_fields"), "qa_status_changed", "e1")
        ).status
        == "skipped"
    )

    # The move a person makes in Asana: section first, then Status (two events, one entry).
    rt.asana.add_task_to_section(w.sections["Ready for Review"], gid)
    entered = facts(
        gid, action="added", parent={"gid": w.sections["Ready for Review"], "resource_type": "section"}
    )
    first = qa_review(work(rt, entered, "qa_section_added", "e2"))
    assert first.status == "done" and first.outcome == "awaiting_approval"
    again = qa_review(work(rt, entered, "qa_section_added", "e2"))  # duplicate delivery
    assert again.status == "skipped" and again.thread_id == first.thread_id
    field_change = facts(gid, action="changed", field="custom_fields")
    later = qa_review(work(rt, field_change, "qa_status_changed", "e3"))  # Status still says In Progress
    assert later.status == "skipped" and later.thread_id is None

    pending = rt.repo.pending_approvals()
    assert [p.proposal.agent for p in pending] == ["qa"]
    assert [c for c in w.comments_on(gid) if "Definition of Done review" in c]


def test_a_move_into_another_section_costs_no_task_read_and_a_renamed_section_counts(
    live: tuple[QaWorld, Runtime],
) -> None:
    """Issue 23: most section moves are not into review; the section's name (kept in the process)
    says so without reading the task. A section renamed to "Ready for Review" counts once its
    rename event dropped the kept name (the worker calls forget_section for section events)."""
    from service.events.routes_qa import forget_section

    w, rt = live
    gid = w.task("Export invoices", section="In Progress", status="In Progress")
    doing = w.sections["In Progress"]

    def task_reads() -> int:
        return int(w.store.stats.snapshot()["by_route"].get("GET /tasks/{task_gid}", 0))

    moved = facts(gid, action="added", parent={"gid": doing, "resource_type": "section"})
    assert qa_review(work(rt, moved, "qa_section_added", "m1")).status == "skipped"
    before = task_reads()
    assert qa_review(work(rt, moved, "qa_section_added", "m2")).status == "skipped"
    assert task_reads() == before  # nor the section again: its name is kept

    rt.asana.update_section(doing, "Ready for Review")
    assert qa_review(work(rt, moved, "qa_section_added", "m3")).status == "skipped"  # kept name
    forget_section(rt.asana.base_url, doing)
    result = qa_review(work(rt, moved, "qa_section_added", "m4"))
    assert result.status == "done", result


def test_the_echo_of_our_own_ai_fields_is_skipped_without_a_read(live: tuple[QaWorld, Runtime]) -> None:
    """Issue 23: the "custom_fields changed" event our own AI-field write causes is skipped from the
    audit log (we wrote no Status there) without reading the task; our own Status write, or a
    person's change, still reads it."""
    from graphs.ports import AuditRecord

    w, rt = live
    gid = w.task("Export invoices", section="In Progress", status="In Progress")
    me = rt.asana.me().gid

    def ours(**after: object) -> None:
        rt.audit.append(
            AuditRecord(
                actor="agent:triage",
                event="action.applied",
                outcome="ok",
                target=gid,
                after=dict(after),
                details={"kind": "set_custom_field"},
            )
        )

    def changed(user: str) -> EventFacts:
        payload: dict[str, Any] = {
            "action": "changed",
            "resource": {"gid": gid, "resource_type": "task"},
            "user": {"gid": user, "resource_type": "user"},
            "change": {"field": "custom_fields", "action": "changed"},
        }
        return EventFacts.from_payload(payload)

    def task_reads() -> int:
        return int(w.store.stats.snapshot()["by_route"].get("GET /tasks/{task_gid}", 0))

    ours(**{"AI Suggestion": "~3 pts"})
    before = task_reads()
    echo = qa_review(work(rt, changed(me), "qa_status_changed", "o1"))
    assert echo.detail == "our own field writes" and task_reads() == before
    person = next(u for u in w.store.users if u != me)
    assert qa_review(work(rt, changed(person), "qa_status_changed", "o2")).status == "skipped"
    assert task_reads() == before + 1  # a person's change is looked at
    ours(Status="Ready for Review")
    qa_review(work(rt, changed(me), "qa_status_changed", "o3"))
    assert task_reads() == before + 2  # a Status we wrote (an approved proposal) is looked at
