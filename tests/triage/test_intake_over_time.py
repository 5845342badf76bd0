"""Form intake over time (issue 21), end to end on the sandbox: a request that was asked for more
information is triaged again when the requester edits it (asked once per list, never twice the
same), and a duplicate link a person rejected is not proposed again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from agents.proposal import ActionKind
from graphs.runner import start_run
from service.approvals import build_decisions, decide, pending_request
from service.db.engine import read_session
from service.db.events import InboxEvent
from service.events import routes_intake
from service.events.router import ROUTES, EventFacts
from service.events.wiring import install_routes
from service.runtime import Runtime, open_runtime
from service.settings import load_settings
from service.worker.handlers import EventWork
from service.worker.processing import process_inbox_event
from tests.triage.test_form_intake import COMPLETE_NOTES, INTAKE, Intake
from tools.refinement.completeness import asked_keys

ASK = "More information needed"


@pytest.fixture
def rt(tmp_path: Path) -> Iterator[Runtime]:
    settings = load_settings(
        data_dir=tmp_path, asana_base_url=None, model="offline", intake_projects=[INTAKE]
    )
    with open_runtime(settings) as runtime:
        install_routes()
        routes_intake.install()  # wiring.install_routes does this once the lead wires it
        yield runtime


@pytest.fixture
def intake(rt: Runtime) -> Iterator[Intake]:
    world = Intake(rt)
    yield world
    world.human.close()


def _asks(intake: Intake, gid: str) -> list[str]:
    return [c for c in intake.comments(gid) if ASK in c]


def _changed_runs(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in results if r.get("route") == routes_intake.CHANGED_ROUTE and r.get("thread_id")]


def test_route_sits_before_the_other_field_change_routes(rt: Runtime) -> None:
    names = [r.name for r in ROUTES]
    assert names.index(routes_intake.CHANGED_ROUTE) < names.index("deps_status_changed")


def test_an_edited_request_is_triaged_again_and_asked_once_per_list(intake: Intake) -> None:
    rt = intake.rt
    task = intake.submit(name="Dark mode", notes="Please add it.", submitter=intake.owner)
    intake.deliver()
    (first,) = _asks(intake, task["gid"])
    assert asked_keys(first) == {"description", "acceptance_criteria", "field:Business Value"}
    # Incomplete: not estimated yet, no refinement comment, no AI field.
    assert not [c for c in intake.comments(task["gid"]) if "Backlog refinement" in c]

    # The requester writes more, but no criteria and no Business Value: one new ask, naming only
    # what is still missing.
    longer = (
        "Our support team works night shifts and the bright screens tire their eyes; a dark theme "
        "for the whole app would help them and many customers who ask for it."
    )
    intake.human.update_task(task["gid"], {"notes": longer})
    results = intake.deliver()
    assert len(_changed_runs(results)) == 1, results
    asks = _asks(intake, task["gid"])
    assert len(asks) == 2 and asked_keys(asks[1]) == {"acceptance_criteria", "field:Business Value"}
    assert "still needs" in asks[1] and "A description" not in asks[1]

    # Another edit that leaves the same things missing: nothing new (no second identical ask).
    stories = len(rt.asana.stories(task["gid"]))
    intake.human.update_task(task["gid"], {"notes": longer + " Especially on the order screens."})
    results = intake.deliver()
    assert len(_changed_runs(results)) == 1
    assert len(rt.asana.stories(task["gid"])) == stories + 1  # only the edit's own system story

    # Now complete (criteria and the field): triaged as a complete request, no ask.
    intake.human.update_task(task["gid"], {"custom_fields": {intake.fields["Business Value"]: 60}})
    intake.human.update_task(task["gid"], {"notes": COMPLETE_NOTES})
    results = intake.deliver()
    runs = _changed_runs(results)
    assert runs, results
    record = intake.proposal(runs[-1]["thread_id"])
    assert record.status == "applied" and record.proposal.evidence["gaps"] == []
    (refined,) = [c for c in intake.comments(task["gid"]) if "Backlog refinement" in c]
    assert "story points" in refined and len(_asks(intake, task["gid"])) == 2
    assessed = record.proposal.evidence["tasks"][0]
    assert assessed["estimate"]["points"] > 0 and len(assessed["criteria"]["items"]) == 3
    assert [a.kind for a in record.proposal.actions] == [ActionKind.POST_COMMENT]  # no AI fields here

    # Every event again, and a second copy of the last one: nothing new anywhere.
    stories = len(rt.asana.stories(task["gid"]))
    with read_session(rt.engine) as session:
        ids = list(session.scalars(select(InboxEvent.id)))
        last = session.get(InboxEvent, results[-1]["inbox_id"])
        assert last is not None
        payload = dict(last.payload)
    assert all(process_inbox_event(rt, i)["detail"] == "already processed" for i in ids)
    route = next(r for r in ROUTES if r.name == routes_intake.CHANGED_ROUTE)
    again = routes_intake.intake_request_changed(
        EventWork(rt, EventFacts.from_payload(payload), route, results[-1]["inbox_id"], "a-copy")
    )
    assert again.status == "skipped"  # refined now: later edits are the team's work
    assert len(rt.asana.stories(task["gid"])) == stories


def test_the_same_edit_delivered_twice_runs_once(intake: Intake) -> None:
    rt = intake.rt
    task = intake.submit(name="Dark mode", notes="Please add it.", submitter=intake.owner)
    intake.deliver()
    intake.human.update_task(task["gid"], {"notes": "Please add it. Dark mode for the app."})
    results = intake.deliver()
    (run,) = _changed_runs(results)
    with read_session(rt.engine) as session:
        event = session.get(InboxEvent, run["inbox_id"])
        assert event is not None
        payload = dict(event.payload)
    stories = len(rt.asana.stories(task["gid"]))
    route = next(r for r in ROUTES if r.name == routes_intake.CHANGED_ROUTE)
    copy = routes_intake.intake_request_changed(
        EventWork(rt, EventFacts.from_payload(payload), route, run["inbox_id"], "another-delivery")
    )
    assert copy.status == "skipped" and copy.thread_id == run["thread_id"]
    assert len(rt.asana.stories(task["gid"])) == stories


def test_our_own_field_writes_do_not_start_a_run(intake: Intake) -> None:
    task = intake.submit(name="Dark mode", notes="Please add it.", submitter=intake.owner)
    intake.deliver()
    intake.rt.asana.update_task(task["gid"], {"custom_fields": {intake.fields["Business Value"]: 10}})
    assert _changed_runs(intake.deliver()) == []


def _reject_the_link(intake: Intake, thread_id: str) -> None:
    record = intake.proposal(thread_id)
    request = pending_request(intake.rt, record)
    number = next(n for n, a in enumerate(record.proposal.actions, 1) if a.kind == ActionKind.LINK_DUPLICATE)
    decisions = build_decisions(request, reject={number: "not the same: the iOS item is the app's own"})
    done = decide(intake.rt, record, decisions, "cli:po", request["digest"])
    assert done.status == "done", done.report


def test_a_rejected_duplicate_link_is_not_proposed_again(intake: Intake) -> None:
    rt = intake.rt
    task = intake.submit(
        name="Please add a referral program in our iOS app",
        notes=COMPLETE_NOTES,
        custom_fields={intake.fields["Business Value"]: 40},
        submitter=intake.owner,
    )
    results = intake.deliver()
    run = next(r for r in results if r.get("thread_id"))
    (link,) = [
        a for a in intake.proposal(run["thread_id"]).proposal.actions if a.kind == ActionKind.LINK_DUPLICATE
    ]
    _reject_the_link(intake, run["thread_id"])
    assert intake.proposal(run["thread_id"]).status in {"rejected", "applied", "partially_applied"}

    args = {"task": task["gid"], "intake": True, "backlogs": ["Product Backlog"]}
    again = start_run(rt.graph, rt.context(), "rerun", {"agent": "triage", "args": args})
    assert again.status == "done", again.report  # nothing waits for approval: no link proposed
    record = intake.proposal("rerun")
    assert [a for a in record.proposal.actions if a.kind == ActionKind.LINK_DUPLICATE] == []
    evidence = record.proposal.evidence["duplicates"]
    assert evidence["declined"] == [link.params["original"]] and evidence["duplicate"] is None
