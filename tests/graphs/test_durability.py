"""Crashes, retries and resumes: every action reaches Asana exactly once."""

from __future__ import annotations

import sqlite3
from collections import Counter
from pathlib import Path

import pytest
from langgraph.checkpoint.sqlite import SqliteSaver

from graphs.ports import LedgerStatus
from graphs.runner import recover_run, resume_run, start_run
from graphs.supervisor import build_supervisor_graph
from tests.graphs.conftest import T1, World
from tests.graphs.fakes import SimulatedCrash
from tools.asana.errors import BadRequest, ServerError


def _to_gate(world: World, thread_id: str) -> int:
    out = start_run(world.graph, world.ctx(), thread_id, {"agent": "fake_planner"})
    assert out.status == "awaiting_approval"
    return len(world.asana.writes)


def _assert_each_written_once(world: World) -> None:
    counts = Counter(m for m, _ in world.asana.writes)
    assert counts["create_project"] == 1
    assert counts["create_section"] == 1
    assert counts["add_task_to_project"] == 1
    assert counts["create_task"] == 2  # the approval task and the kickoff task
    comments = [args for m, args in world.asana.writes if m == "add_comment"]
    assert len(comments) == len({(a[0], a[1]) for a in comments})  # no comment posted twice
    assert {e.status for e in world.journal.entries.values()} == {LedgerStatus.DONE}


@pytest.mark.parametrize("crash_at", [1, 2, 3, 5])
def test_crash_before_a_write_then_invoke_none_writes_each_once(
    world: World, thread_id: str, crash_at: int
) -> None:
    done_before = _to_gate(world, thread_id)
    world.asana.crash_before_write = done_before + crash_at
    with pytest.raises(SimulatedCrash):
        resume_run(world.graph, world.ctx(), thread_id, [{"type": "approve"}], "alice")

    out = recover_run(world.graph, world.ctx(), thread_id)  # invoke(None, cfg)

    assert out.status == "done" and out.report is not None and out.report["status"] == "applied"
    _assert_each_written_once(world)


@pytest.mark.parametrize(
    "crash_after, method",
    [
        (1, "create_project"),
        (2, "create_section"),
        (4, "update_task"),
        (5, "create_task"),
        (6, "add_comment"),
    ],
)
def test_crash_after_write_before_ledger_finish_is_found_by_probe(
    world: World, thread_id: str, crash_after: int, method: str
) -> None:
    done_before = _to_gate(world, thread_id)
    world.asana.crash_after_write = done_before + crash_after
    with pytest.raises(SimulatedCrash):
        resume_run(world.graph, world.ctx(), thread_id, [{"type": "approve"}], "alice")
    assert world.asana.writes[-1][0] == method
    pending = world.journal.by_status(LedgerStatus.PENDING)
    assert len(pending) == 1  # the write happened, the ledger never heard of it

    world.recompile()  # as if a new process picked the thread up
    out = recover_run(world.graph, world.ctx(), thread_id)

    assert out.report is not None and out.report["status"] == "applied"
    _assert_each_written_once(world)
    entry = world.journal.entries[pending[0].key]
    assert entry.attempts == 2
    if method != "update_task":
        assert entry.result is not None and entry.result["recovered"] is True
    else:
        assert entry.result is not None and entry.result["message"] == "already up to date"


def test_crash_while_publishing_auto_actions(world: World, thread_id: str) -> None:
    world.asana.crash_after_write = 3  # after the approval task is created, before its comment
    with pytest.raises(SimulatedCrash):
        start_run(world.graph, world.ctx(), thread_id, {"agent": "fake_planner"})
    out = recover_run(world.graph, world.ctx(), thread_id)
    assert out.status == "awaiting_approval"
    assert len([a for m, a in world.asana.writes if m == "create_task"]) == 1
    assert out.interrupt is not None and out.interrupt["approval_task_gid"]


def test_transient_asana_error_stops_the_run_and_resume_finishes(world: World, thread_id: str) -> None:
    _to_gate(world, thread_id)
    world.asana.fail_on["create_section"] = ServerError(503, "unavailable", "POST", "/projects/x/sections")
    with pytest.raises(ServerError):
        resume_run(world.graph, world.ctx(), thread_id, [{"type": "approve"}], "alice")
    del world.asana.fail_on["create_section"]
    out = recover_run(world.graph, world.ctx(), thread_id)
    assert out.report is not None and out.report["status"] == "applied"
    _assert_each_written_once(world)


def test_permanent_error_fails_one_action_and_its_dependants_only(world: World, thread_id: str) -> None:
    _to_gate(world, thread_id)
    world.asana.fail_on["create_section"] = BadRequest(400, "name: too long", "POST", "/projects/x/sections")
    out = resume_run(world.graph, world.ctx(), thread_id, [{"type": "approve"}], "alice")

    report = out.report
    assert report is not None and report["status"] == "partially_applied"
    failed = {f["index"]: f["message"] for f in report["failures"]}
    assert "too long" in failed[1]
    assert "depends on action #2" in failed[2]  # action numbers count from 1: index 1 is #2
    assert set(failed) == {1, 2}
    assert str(world.asana.tasks[T1].due_on) == "2026-12-10"  # independent action still applied
    assert world.asana.writes_of("create_project")


def test_stale_value_is_a_conflict_and_not_overwritten(world: World, thread_id: str) -> None:
    _to_gate(world, thread_id)
    world.asana.tasks[T1].due_on = "2026-12-05"  # type: ignore[assignment]  # a human moved it meanwhile
    out = resume_run(world.graph, world.ctx(), thread_id, [{"type": "approve"}], "alice")

    assert str(world.asana.tasks[T1].due_on) == "2026-12-05"
    report = out.report
    assert report is not None and report["status"] == "partially_applied"
    assert report["conflicts"] == [
        {
            "index": 3,
            "kind": "update_task",
            "target": T1,
            "field": "due_on",
            "before": "2026-12-01",
            "now": "2026-12-05",
            "wanted": "2026-12-10",
        }
    ]
    assert world.audit.events("action.conflict")
    assert "Asana now has '2026-12-05'" in report["markdown"]


def test_state_round_trips_through_sqlite_checkpointer_across_processes(
    world: World, thread_id: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = tmp_path / "checkpoints.sqlite"
    with sqlite3.connect(db, check_same_thread=False) as conn:
        graph = build_supervisor_graph(world.registry).compile(checkpointer=SqliteSaver(conn))
        out = start_run(graph, world.ctx(), thread_id, {"agent": "fake_planner"})
        digest = out.interrupt["digest"]  # type: ignore[index]
    with sqlite3.connect(db, check_same_thread=False) as conn:
        graph = build_supervisor_graph(world.registry).compile(checkpointer=SqliteSaver(conn))
        done = resume_run(graph, world.ctx(), thread_id, [{"type": "approve"}], "alice", digest=digest)
    assert done.report is not None and done.report["status"] == "applied"
    assert "unregistered type" not in caplog.text


@pytest.mark.integration
def test_state_round_trips_through_postgres_checkpointer(
    world: World, thread_id: str, pg_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    from langgraph.checkpoint.postgres import PostgresSaver

    with PostgresSaver.from_conn_string(pg_url) as saver:
        saver.setup()
        graph = build_supervisor_graph(world.registry).compile(checkpointer=saver)
        out = start_run(graph, world.ctx(), thread_id, {"agent": "fake_planner"})
        assert out.status == "awaiting_approval"
    with PostgresSaver.from_conn_string(pg_url) as saver:  # a new connection, as in another process
        graph = build_supervisor_graph(world.registry).compile(checkpointer=saver)
        done = resume_run(graph, world.ctx(), thread_id, [{"type": "approve"}], "alice")
    assert done.report is not None and done.report["status"] == "applied"
    assert "unregistered type" not in caplog.text
    _assert_each_written_once(world)
