"""Issue 21 part 4: ceremony preparation, end to end on the seeded embedded sandbox.

A ceremony run proposes its ceremonies project (first use), the agenda task due at the ceremony's
start and the .ics invite; nothing is written before approval. After approval the sandbox holds the
task and the invite, which follows RFC 5545's line rules and carries the configured times. A re-run
proposes nothing; on the working day before, one reminder comment is posted, once.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from agents.ceremonies import CeremonyArgs, ceremony_specialist
from graphs.registry import SpecialistRegistry
from graphs.runner import pending_interrupt, start_run
from service.approvals import build_decisions, decide, find_proposal
from service.runtime import Runtime, open_runtime
from service.schedules.ceremonies import run_ceremony_prep
from service.settings import load_settings
from tools.ceremonies.ics import CalendarEvent, calendar, escape_text, fold
from tools.ceremonies.times import CeremonyTimes, ceremony_window, reminder_day

pytestmark = pytest.mark.usefixtures("offline_env", "default_ceremony_settings")


@pytest.fixture
def default_ceremony_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("SPRINTPILOT_CEREMONY_TIMES", "SPRINTPILOT_CEREMONY_REMINDERS"):
        monkeypatch.delenv(var, raising=False)


SPRINT_23_LAST_DAY = date(2026, 11, 20)


def _run(rt: Runtime, now: datetime, ceremony: str, **extra: Any) -> tuple[dict[str, Any] | None, Any]:
    ws = rt.resolve_workspace()
    ctx = rt.context(
        actor="agent:ceremony", approver_gid=rt.approver_for(ws, "Product Backlog"), now=lambda: now
    )
    args = {"ceremony": ceremony, "project": "Product Backlog", **extra}
    out = start_run(rt.graph, ctx, uuid.uuid4().hex, {"agent": "ceremony", "args": args})
    pid = out.interrupt["proposal_id"] if out.interrupt else (out.report or {}).get("proposal_id")
    assert pid, out.report
    return out.interrupt, find_proposal(rt, pid)


def parse_ics(raw: bytes) -> dict[str, str]:
    """Check RFC 5545's line rules on the raw bytes, unfold, and return the VEVENT's properties."""
    assert raw.endswith(b"\r\n")
    assert b"\n" not in raw.replace(b"\r\n", b"") and b"\r" not in raw.replace(b"\r\n", b"")
    lines = raw.split(b"\r\n")[:-1]
    assert all(len(line) <= 75 for line in lines), "a content line longer than 75 octets"
    unfolded: list[str] = []
    for line in lines:
        text = line.decode("utf-8")  # folding never splits a UTF-8 sequence
        if text.startswith(" "):
            unfolded[-1] += text[1:]
        else:
            unfolded.append(text)
    assert unfolded[0] == "BEGIN:VCALENDAR" and unfolded[-1] == "END:VCALENDAR"
    inside = unfolded[unfolded.index("BEGIN:VEVENT") + 1 : unfolded.index("END:VEVENT")]
    props = dict(line.split(":", 1) for line in inside)
    assert {"UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY"} <= props.keys()
    assert "VERSION:2.0" in unfolded and any(p.startswith("PRODID:") for p in unfolded)
    return props


def unescape(value: str) -> str:
    out, i = [], 0
    while i < len(value):
        if value[i] == "\\" and i + 1 < len(value):
            out.append("\n" if value[i + 1] in "nN" else value[i + 1])
            i += 2
        else:
            out.append(value[i])
            i += 1
    return "".join(out)


def _ceremony_tasks(rt: Runtime) -> list[Any]:
    ws = rt.resolve_workspace()
    project = next((p for p in rt.asana.projects(ws) if p.name == "Mobile ceremonies"), None)
    return rt.asana.project_tasks(project.gid) if project else []


def _ics(rt: Runtime, task_gid: str) -> tuple[Any, dict[str, str]]:
    files = [a for a in rt.asana.attachments(task_gid) if (a.name or "").endswith(".ics")]
    assert len(files) == 1 and files[0].download_url
    return files[0], parse_ics(httpx.get(files[0].download_url).content)


def test_planning_agenda_and_invite_wait_for_approval_then_exist_and_rerun_is_quiet(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, asana_base_url=None, model="offline")
    now = datetime(2026, 11, 18, 9, tzinfo=UTC)
    with open_runtime(settings, registry=SpecialistRegistry([ceremony_specialist()])) as rt:
        interrupt, record = _run(rt, now, "planning")
        assert interrupt is not None
        p = record.proposal
        mine = p.actions[:3]  # then the gate's approval task and its comment
        assert [a.kind.value for a in mine] == ["create_project", "create_task", "attach_document"]
        assert all(a.approval_class and a.approval_class.value == "needs_approval" for a in mine)
        assert _ceremony_tasks(rt) == []  # nothing before approval
        task_params = p.actions[1].params
        assert task_params["name"] == "Sprint 24 planning"
        assert task_params["due_at"] == "2026-11-23T10:00:00+00:00"  # Monday after Sprint 23, 10:00 UTC
        agenda = task_params["notes"]
        assert (
            "2. Candidates from the groomed backlog" in agenda
            and "Velocity forecast for Sprint 24: P50" in agenda
        )
        assert "3. Open action items from earlier retros" in agenda

        result = decide(rt, record, build_decisions(interrupt), "alice", interrupt.get("digest"))
        assert result.status == "done", result.report
        [task] = _ceremony_tasks(rt)
        assert task.name == "Sprint 24 planning" and "Sprint 24 planning" in (task.notes or "")
        detail = rt.asana.task(task.gid)
        assert detail.due_at is not None and detail.due_at.astimezone(UTC) == datetime(
            2026, 11, 23, 10, tzinfo=UTC
        )
        _, props = _ics(rt, task.gid)
        assert props["DTSTART"] == "20261123T100000Z" and props["DTEND"] == "20261123T120000Z"
        assert unescape(props["SUMMARY"]) == "Sprint 24 planning"
        assert "Candidates from the groomed backlog" in unescape(props["DESCRIPTION"])
        uid = props["UID"]

        interrupt, again = _run(rt, now, "planning")
        assert interrupt is None and again.proposal.actions == []
        assert len(_ceremony_tasks(rt)) == 1

        # The backlog's top candidate is finished meanwhile: the agenda changed, so the task's notes
        # (with the value read as `before`) and the invite are updated; the old invite is replaced.
        first = agenda.split("2. Candidates from the groomed backlog")[1].splitlines()[1]
        top_name = first.split(". ", 1)[1].rsplit(" — ", 1)[0]
        backlog = rt.asana.find_project(rt.resolve_workspace(), "Product Backlog")
        top = next(t for t in rt.asana.project_tasks(backlog.gid) if t.name == top_name)
        rt.asana.update_task(top.gid, {"completed": True})
        interrupt, changed = _run(rt, now, "planning")
        assert interrupt is not None
        update, invite = changed.proposal.actions[:2]
        assert (update.kind.value, update.target) == ("update_task", task.gid)
        assert set(update.params) == {"notes"} and update.before == {"notes": detail.notes}
        assert top_name not in update.params["notes"].split("3. Open action items")[0]
        assert (invite.kind.value, invite.target) == ("attach_document", task.gid)
        old_invite, _ = _ics(rt, task.gid)
        decide(rt, changed, build_decisions(interrupt), "alice", interrupt.get("digest"))
        new_invite, props = _ics(rt, task.gid)  # exactly one .ics: the old one was replaced
        assert new_invite.name == invite.params["filename"] != old_invite.name
        assert top_name not in unescape(props["DESCRIPTION"]).split("3. Open action items")[0]
        assert props["UID"] == uid and props["DTSTART"] == "20261123T100000Z"  # the same event, updated


def test_review_in_local_time_is_reminded_once_the_day_before(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, asana_base_url=None, model="offline")
    two_days_before = datetime(2026, 11, 18, 9, tzinfo=UTC)
    zone = {"timezone": "Europe/Berlin", "times": {"review": {"at": "13:30", "minutes": 45}}}
    with open_runtime(settings, registry=SpecialistRegistry([ceremony_specialist()])) as rt:
        interrupt, record = _run(rt, two_days_before, "review", **zone)
        assert interrupt is not None
        assert "2. Demos, by epic" in record.proposal.actions[1].params["notes"]
        decide(rt, record, build_decisions(interrupt), "alice", interrupt.get("digest"))
        [task] = _ceremony_tasks(rt)
        _, props = _ics(rt, task.gid)
        # 13:30 in Berlin (CET, UTC+1) on Sprint 23's last day.
        assert props["DTSTART"] == "20261120T123000Z" and props["DTEND"] == "20261120T131500Z"

        # Unchanged and not yet the day before: nothing.
        interrupt, quiet = _run(rt, two_days_before + timedelta(hours=3), "review", **zone)
        assert interrupt is None and quiet.proposal.actions == []
        # The day before: one reminder comment, automatic.
        day_before = datetime(2026, 11, 19, 9, tzinfo=UTC)
        interrupt, reminded = _run(rt, day_before, "review", **zone)
        assert interrupt is None and [a.kind.value for a in reminded.proposal.actions] == ["post_comment"]
        reminders = [
            s for s in rt.asana.stories(task.gid) if "Reminder: Sprint 23 sprint review" in (s.text or "")
        ]
        assert len(reminders) == 1 and "13:30 (Europe/Berlin)" in (reminders[0].text or "")
        # Only once.
        interrupt, once = _run(rt, day_before + timedelta(hours=2), "review", **zone)
        assert interrupt is None and once.proposal.actions == []
        # After the ceremony started: nothing to prepare.
        _, late = _run(rt, datetime(2026, 11, 20, 13, tzinfo=UTC), "review", **zone)
        assert late.proposal.actions == [] and late.proposal.evidence["state"].startswith("the Sprint 23")


def test_retro_agenda_lists_open_action_items_from_earlier_retros(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, asana_base_url=None, model="offline")
    with open_runtime(settings, registry=SpecialistRegistry([ceremony_specialist()])) as rt:
        ws = rt.resolve_workspace()
        process = rt.asana.find_project(ws, "Process Improvement")
        open_items = [t for t in rt.asana.project_tasks(process.gid) if not t.completed]
        _, record = _run(rt, datetime(2026, 11, 18, 9, tzinfo=UTC), "retro")
        notes = record.proposal.actions[1].params["notes"]
        assert "2. Action items from earlier retros" in notes
        assert open_items and all(t.name in notes for t in open_items)
        assert record.proposal.actions[1].params["due_at"] == "2026-11-20T15:30:00+00:00"


def test_the_daily_job_prepares_all_three_only_near_the_sprint_end(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, asana_base_url=None, model="offline")
    with open_runtime(settings, registry=SpecialistRegistry([ceremony_specialist()])) as rt:
        early = datetime(2026, 11, 12, 8, tzinfo=UTC)  # Sprint 23 ends in 8 days
        assert run_ceremony_prep(rt, ["Product Backlog"], now=lambda: early) == []
        near = datetime(2026, 11, 18, 8, tzinfo=UTC)
        started = run_ceremony_prep(rt, ["Product Backlog"], now=lambda: near)
        titles = sorted((pending_interrupt(rt.graph, t) or {}).get("title", "") for t in started)
        assert titles == [
            "Approve the Sprint 23 retrospective agenda and invite",
            "Approve the Sprint 23 sprint review agenda and invite",
            "Approve the Sprint 24 planning agenda and invite",
        ]


def test_ics_follows_rfc_5545_line_rules() -> None:
    start = datetime(2026, 3, 2, 9, tzinfo=UTC)
    text = calendar(
        CalendarEvent(
            uid="retro-abc@sprintpilot",
            start=start,
            end=start + timedelta(hours=1),
            summary="Retro; Sprint 9, part 2",
            description="Zürich — naïve café " * 20 + "\nline two\\end",
            stamp=datetime(2026, 3, 1, tzinfo=UTC),
        )
    )
    props = parse_ics(text.encode())
    assert props["SUMMARY"] == "Retro\\; Sprint 9\\, part 2"
    assert unescape(props["DESCRIPTION"]).endswith("\nline two\\end")
    assert escape_text("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"
    assert fold("x" * 75) == "x" * 75 and fold("x" * 76) == "x" * 75 + "\r\n x"
    with pytest.raises(ValueError):
        calendar(CalendarEvent(uid="u", start=start, end=start, summary="s", stamp=start))


def test_chat_and_mcp_runs_default_to_the_same_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPRINTPILOT_TIMEZONE", "Europe/Berlin")
    monkeypatch.setenv("SPRINTPILOT_CEREMONY_TIMES", '{"retro": {"at": "11:00"}}')
    monkeypatch.setenv("SPRINTPILOT_CEREMONY_REMINDERS", "false")
    args = CeremonyArgs.model_validate({"ceremony": "retro"})
    assert args.timezone == "Europe/Berlin" and args.times.slot("retro").at == "11:00" and not args.remind
    assert load_settings().ceremony_times == {"retro": {"at": "11:00"}}
    with pytest.raises(ValueError, match="unknown timezone 'Mars/Olympus'"):
        CeremonyArgs.model_validate({"ceremony": "retro", "timezone": "Mars/Olympus"})


def test_ceremony_times_and_reminder_day() -> None:
    times = CeremonyTimes.model_validate({"planning": {"anchor": "end", "offset_days": -1, "at": "16:00"}})
    w = ceremony_window("planning", date(2026, 11, 23), date(2026, 12, 4), times, "America/New_York")
    assert w.start == datetime(2026, 12, 3, 21, tzinfo=UTC) and w.end - w.start == timedelta(minutes=120)
    assert reminder_day(date(2026, 11, 23)) == date(2026, 11, 20)  # a Monday ceremony: Friday
    assert reminder_day(SPRINT_23_LAST_DAY) == date(2026, 11, 19)
    with pytest.raises(ValueError):
        CeremonyTimes.model_validate({"retro": {"at": "25:00"}})
