"""The stand-up through supervisor → policy → publish → apply against the embedded sandbox."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

import pytest

from agents.standup import standup_thread_id
from graphs.runner import ThreadBusy, start_run
from service.runtime import Runtime
from tests.standup.conftest import NOW, standup_ctx


def _mutations(rt: Runtime) -> Counter[str]:
    assert rt.sandbox is not None
    return Counter(rt.sandbox.store.stats.snapshot()["mutating"])


def _run(rt: Runtime, project: str, thread: str, now: datetime = NOW) -> dict:
    out = start_run(
        rt.graph,
        standup_ctx(rt, now),
        thread,
        {"agent": "standup", "args": {"project": project}, "trigger": "cli"},
    )
    assert out.status == "done", out.report
    assert out.report is not None
    return out.report


def _sprint(rt: Runtime, name: str) -> str:
    return rt.asana.find_project(rt.allowed_workspaces()[0], name).gid


def test_standup_writes_status_impediments_and_nudges_once_per_day(rt: Runtime) -> None:
    project = _sprint(rt, "Sprint 23")
    thread = standup_thread_id(project, NOW.date())
    report = _run(rt, project, thread)
    assert report["status"] == "applied"
    first = _mutations(rt)
    assert first["POST /status_updates"] == 1
    assert first["POST /tasks/{task_gid}/stories"] >= 1  # nudges
    assert first["PUT /tasks/{task_gid}"] >= 1  # Impediments on the blocked task
    updates = [u for u in rt.asana.status_updates(project) if (u.title or "").startswith("Daily stand-up")]
    assert len(updates) == 1 and updates[0].title == "Daily stand-up 2026-11-19"
    assert updates[0].status_type in {"on_track", "at_risk", "off_track"}

    # Same day, same thread (schedule + CLI): refused by the runner.
    with pytest.raises(ThreadBusy):
        _run(rt, project, thread)
    # Same day, another thread (e.g. an event): the specialist finds today's update, proposes nothing.
    again = _run(rt, project, "another-thread", NOW.replace(hour=20))
    assert again["counts"] == {} or sum(again["counts"].values()) == 0
    assert _mutations(rt) == first

    # Next day: a new stand-up, reading only what changed since the previous one.
    _run(rt, project, standup_thread_id(project, NOW.date().replace(day=20)), NOW.replace(day=20))
    assert _mutations(rt)["POST /status_updates"] == 2


def test_nudges_never_go_to_people_outside_the_project(rt: Runtime) -> None:
    assert rt.sandbox is not None
    store = rt.sandbox.store
    project = _sprint(rt, "Sprint 23")
    open_tasks = [g for g in store.project_tasks(project) if not store.tasks[g].completed]
    outsider = store.add_user("Olga Outside", "olga@elsewhere.example")  # not in the workspace
    target = open_tasks[0]
    store.tasks[target].assignee = outsider.gid
    store.tasks[target].due_on = (NOW - timedelta(days=1)).date().isoformat()  # overdue: surely at risk
    _run(rt, project, "t-outsider")
    record = rt.repo.list_proposals()[0]
    nudged = {a.target for a in record.proposal.actions if a.kind.value == "post_comment" and a.target}
    at_risk = {r["task_gid"] for r in record.proposal.evidence["at_risk"]}
    assert target in at_risk and target not in nudged
    assert nudged, "the other at-risk task (owned by a member) is still nudged"
    members = {u.gid for u in rt.asana.users(rt.allowed_workspaces()[0])}
    owners = {store.tasks[g].assignee for g in nudged}
    assert owners <= members
    comments = [s for s in store.stories_for(target) if s.type == "comment" and "[AI Proposal]" in s.text]
    assert comments == []


def test_empty_sprint_gives_a_short_honest_standup(rt: Runtime) -> None:
    assert rt.sandbox is not None
    store = rt.sandbox.store
    ws = rt.allowed_workspaces()[0]
    empty = store.add_project(ws, "Sprint 24", start_on="2026-11-23", due_on="2026-12-04")
    report = _run(rt, empty.gid, "t-empty", NOW.replace(day=23))
    assert report["status"] == "applied"
    update = [u for u in rt.asana.status_updates(empty.gid) if (u.title or "").startswith("Daily stand-up")]
    assert len(update) == 1 and update[0].status_type == "on_track"
    assert "no tasks" in (update[0].text or "")
    assert len(update[0].text or "") < 800
    assert _mutations(rt)["POST /tasks/{task_gid}/stories"] == 0


def test_a_transient_asana_error_does_not_make_the_days_standup_done(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 14 defect: a 503 inside the specialist used to end the run with an error report, so the
    day's deterministic thread was finished and every retry answered "already done" (lost)."""
    import agents.standup.specialist as standup_module
    from service.schedules.standup import run_daily_standup
    from tools.asana.errors import ServerError

    real = standup_module.read_standup_inputs
    calls = {"n": 0}

    def flaky(*args: object, **kwargs: object) -> object:
        calls["n"] += 1
        if calls["n"] == 1:
            raise ServerError(503, "Service Unavailable", "GET", "/projects/x/tasks")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(standup_module, "read_standup_inputs", flaky)
    project = _sprint(rt, "Sprint 23")
    # The error reaches the caller (the worker retries transient errors; beat reports it per project).
    with pytest.raises(ServerError):
        run_daily_standup(rt, project, now=lambda: NOW, trigger="schedule")
    assert _mutations(rt)["POST /status_updates"] == 0

    retried = run_daily_standup(rt, project, now=lambda: NOW, trigger="schedule")
    assert retried.status == "applied", retried.report
    assert _mutations(rt)["POST /status_updates"] == 1
    # And only once: a third trigger the same day is already done and writes nothing.
    assert run_daily_standup(rt, project, now=lambda: NOW, trigger="cli").status == "already_done"
    assert _mutations(rt)["POST /status_updates"] == 1
