"""Issue 21, ceremonies over time: the invite's SEQUENCE and attendees, and a ceremony task a person
deleted. End to end on the seeded embedded sandbox, plus the .ics rules on hostile names."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from agents.ceremonies import ceremony_specialist
from agents.ceremonies.invite import invite_name, next_sequence
from graphs.registry import SpecialistRegistry
from graphs.runner import start_run
from service.approvals import build_decisions, decide, find_proposal
from service.runtime import Runtime, open_runtime
from service.settings import load_settings
from tests.ceremonies.test_ceremony_prep import parse_ics
from tools.ceremonies.ics import CalendarEvent, Person, calendar, content_digest

pytestmark = pytest.mark.usefixtures("offline_env", "default_ceremony_settings")

NOW = datetime(2026, 11, 18, 9, tzinfo=UTC)


@pytest.fixture
def default_ceremony_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("SPRINTPILOT_CEREMONY_TIMES", "SPRINTPILOT_CEREMONY_REMINDERS", "SPRINTPILOT_TIMEZONE"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def rt(tmp_path: Path) -> Any:
    settings = load_settings(data_dir=tmp_path, asana_base_url=None, model="offline")
    with open_runtime(settings, registry=SpecialistRegistry([ceremony_specialist()])) as runtime:
        yield runtime


def _run(rt: Runtime, at: str | None = None) -> tuple[dict[str, Any] | None, Any]:
    ws = rt.resolve_workspace()
    ctx = rt.context(
        actor="agent:ceremony", approver_gid=rt.approver_for(ws, "Product Backlog"), now=lambda: NOW
    )
    args: dict[str, Any] = {"ceremony": "planning", "project": "Product Backlog", "timezone": "UTC"}
    if at:
        args["times"] = {"planning": {"at": at}}
    out = start_run(rt.graph, ctx, uuid.uuid4().hex, {"agent": "ceremony", "args": args})
    pid = out.interrupt["proposal_id"] if out.interrupt else (out.report or {}).get("proposal_id")
    assert pid, out.report
    return out.interrupt, find_proposal(rt, pid)


def _approve(rt: Runtime, interrupt: dict[str, Any] | None, record: Any) -> None:
    assert interrupt is not None
    done = decide(rt, record, build_decisions(interrupt), "alice", interrupt.get("digest"))
    assert done.status == "done", done.report


def _task(rt: Runtime) -> Any:
    ws = rt.resolve_workspace()
    project = next(p for p in rt.asana.projects(ws) if p.name == "Mobile ceremonies")
    (task,) = [t for t in rt.asana.project_tasks(project.gid) if not t.completed]
    return task


def _lines(raw: bytes) -> list[str]:
    out: list[str] = []
    for line in raw.decode("utf-8").split("\r\n")[:-1]:
        if line.startswith(" "):
            out[-1] += line[1:]
        else:
            out.append(line)
    return out


def _invite(rt: Runtime, task_gid: str) -> tuple[str, bytes]:
    files = [a for a in rt.asana.attachments(task_gid) if (a.name or "").endswith(".ics")]
    assert len(files) == 1 and files[0].download_url
    return files[0].name or "", httpx.get(files[0].download_url).content


def test_sequence_grows_when_the_time_moves_and_attendees_are_the_team(rt: Runtime) -> None:
    interrupt, record = _run(rt)
    _approve(rt, interrupt, record)
    task = _task(rt)
    name, raw = _invite(rt, task.gid)
    props, lines = parse_ics(raw), _lines(raw)
    assert props["SEQUENCE"] == "0" and "METHOD:REQUEST" in lines
    backlog = rt.asana.find_project(rt.resolve_workspace(), "Product Backlog")
    assert backlog.team is not None and backlog.owner is not None
    members = {u.email for u in rt.asana.team_members(backlog.team.gid) if u.email}
    members.discard(rt.asana.me().email)
    attendees = {line.rsplit("mailto:", 1)[1] for line in lines if line.startswith("ATTENDEE;")}
    assert attendees == members and len(attendees) > 1
    # The organizer is the backlog's owner.
    team = rt.asana.team_members(backlog.team.gid)
    owner_email = next(u.email for u in team if u.gid == backlog.owner.gid)
    (organizer,) = [line for line in lines if line.startswith("ORGANIZER")]
    assert organizer.endswith(f"mailto:{owner_email}")

    # Nothing changed: nothing proposed, the file stays (a re-run is silent).
    interrupt, quiet = _run(rt)
    assert interrupt is None and quiet.proposal.actions == []

    # The time moves: the task's due time and a new version of the same event (same UID).
    interrupt, moved = _run(rt, at="11:00")
    kinds = [a.kind.value for a in moved.proposal.actions[:2]]
    assert kinds == ["update_task", "attach_document"]
    _approve(rt, interrupt, moved)
    name2, raw2 = _invite(rt, task.gid)
    props2 = parse_ics(raw2)
    assert props2["UID"] == props["UID"] and props2["SEQUENCE"] == "1" and name2 != name
    assert props2["DTSTART"] == "20261123T110000Z"
    interrupt, quiet = _run(rt, at="11:00")
    assert interrupt is None and quiet.proposal.actions == []
    assert _invite(rt, task.gid) == (name2, raw2)  # byte for byte the same file

    # And back: a third version, higher again (a client never sees an older number).
    interrupt, back = _run(rt)
    _approve(rt, interrupt, back)
    assert parse_ics(_invite(rt, task.gid)[1])["SEQUENCE"] == "2"


def test_a_deleted_ceremony_task_is_not_recreated_for_that_time(rt: Runtime) -> None:
    interrupt, record = _run(rt)
    _approve(rt, interrupt, record)
    task = _task(rt)
    rt.asana.delete_task(task.gid)  # a person's decision

    interrupt, again = _run(rt)
    assert interrupt is None and again.proposal.actions == []
    state = again.proposal.evidence["state"]
    assert "was deleted" in state and task.gid in state and "not prepared again" in state

    # Another time is another ceremony: prepared again (for approval).
    interrupt, other = _run(rt, at="13:00")
    assert interrupt is not None
    assert [a.kind.value for a in other.proposal.actions[:2]] == ["create_task", "attach_document"]


def _event(**extra: Any) -> CalendarEvent:
    start = datetime(2026, 3, 2, 9, tzinfo=UTC)
    return CalendarEvent(
        uid="retro-abc@sprintpilot",
        start=start,
        end=start + timedelta(hours=1),
        summary="Retro",
        stamp=datetime(2026, 3, 1, tzinfo=UTC),
        **extra,
    )


def test_attendee_names_cannot_break_the_calendar() -> None:
    hostile = 'Eve "x"\r\nATTENDEE:mailto:attacker@evil.example;ROLE=CHAIR ^ Ünïcødé ' + "long " * 12
    event = _event(
        sequence=3,
        organizer=Person(email="po@acme.example", name="PO"),
        attendees=[Person(email="eve@acme.example", name=hostile), Person(email="bo@acme.example")],
    )
    raw = calendar(event).encode()
    props, lines = parse_ics(raw), _lines(raw)
    assert props["SEQUENCE"] == "3" and "METHOD:REQUEST" in lines
    people = [line for line in lines if line.startswith(("ATTENDEE", "ORGANIZER"))]
    assert len(people) == 3 and not any("attacker" in line.split('"')[0] for line in people)
    eve = next(line for line in people if line.endswith("mailto:eve@acme.example"))
    assert "CN=\"Eve ^'x^'^nATTENDEE:mailto:attacker@evil.example;ROLE=CHAIR ^^ Ünïcødé" in eve
    assert eve.count('"') == 2  # one quoted value: the name cannot end it
    with pytest.raises(ValueError):
        Person(email="x@y.example\r\nATTENDEE:mailto:z@evil.example")
    # Attendees need an organizer (RFC 5545 3.8.4.3): without one, a published event with none.
    alone = _lines(calendar(_event(attendees=[Person(email="bo@acme.example")])).encode())
    assert "METHOD:PUBLISH" in alone and not any(line.startswith("ATTENDEE") for line in alone)
    # The digest is what the event says: not its version number, not when it was written.
    assert content_digest(_event(sequence=5)) == content_digest(_event())


def test_sequence_is_read_from_the_attached_file_names() -> None:
    title = "Sprint 24 planning"
    assert next_sequence(title, [], "aaaaaaaaaa") == (0, False)
    first = invite_name(title, "aaaaaaaaaa", 0)
    assert first == "Sprint 24 planning aaaaaaaaaa.ics"
    assert next_sequence(title, [first], "aaaaaaaaaa") == (0, True)
    assert next_sequence(title, [first], "bbbbbbbbbb") == (1, False)
    assert next_sequence(title, [invite_name(title, "bbbbbbbbbb", 4), "notes.pdf"], "cccccccccc") == (
        5,
        False,
    )
