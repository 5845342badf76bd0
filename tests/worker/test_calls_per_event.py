"""Asana calls per event kind, counted at the sandbox (issue 23): a regression fails here.

Each case is one thing a person does in Asana; its events are read through the events API into
the inbox and handled as the worker handles them (`process_inbox_event`). The budgets are today's
counts: lowering one is progress (update the budget and the README's table), raising one fails.
`python -m evals.bench_calls_per_event` prints the same table with the per-endpoint breakdown.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from evals.calls_per_event import CASES, measure_case
from service.events.reconcile import reconcile_project
from service.runtime import Runtime, open_runtime
from service.settings import load_settings
from tools.asana.fields import TaskView
from tools.asana.task_index import PROJECT_TASKS

# Asana calls for the whole handling of each person's action (all its events), events reads aside:
# the first handling in a process, then the steady state (the project's tasks kept current with
# modified_since reads, its field settings cached, the project's own record kept for a minute).
# Before issue 23's work: 20 and 19; session 8: 12 and 9; one view per handling: 9 and 4.
BUDGETS = {
    "triage: task added to the backlog": (9, 4),
    "stand-up: task added to the sprint": (2, 0),
    # A 10-day slip cascading through the sprint; then only the sprint's and backlog's changes.
    "dependencies: due date moved": (37, 11),
    # The seeded sprint has one task to move; a new process reads the sprint whole (3 pages) once.
    "QA: task moved to Ready for Review": (11,),
}


@pytest.fixture
def rt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    # The budgets count what one handling reads, not how fast this machine is: on a loaded CI
    # machine a first handling (indexing the backlog) outlasted the view's 10-s age and read the
    # task a second time.
    monkeypatch.setattr("tools.asana.snapshot.DEFAULT_MAX_AGE_S", 300.0)
    settings = load_settings(data_dir=tmp_path, asana_base_url=None, model="offline")
    with open_runtime(settings) as runtime:
        yield runtime


@pytest.mark.parametrize("case", list(BUDGETS))
def test_calls_per_event_stay_within_budget(rt: Runtime, case: str) -> None:
    for budget in BUDGETS[case]:
        measured = measure_case(rt, CASES[case])
        assert measured.calls <= budget, measured.by_endpoint


def test_triage_writes_its_fields_in_one_call_and_reads_only_the_changes(rt: Runtime) -> None:
    case = CASES["triage: task added to the backlog"]
    for _ in range(2):
        measured = measure_case(rt, case)
        assert measured.handled == ["task_added_to_project"], measured
        # The proposal's own writes: one PUT for all four AI fields and one comment.
        assert measured.by_endpoint["PUT /tasks/{task_gid}"] == 1, measured.by_endpoint
        assert measured.by_endpoint["POST /tasks/{task_gid}/stories"] == 1, measured.by_endpoint
    # The steady state reads the project's changes, not its whole task list, the task once (the
    # handler, the policy's scope check and the stale check share one view of it) and not the
    # project's own record (kept for a minute).
    assert "GET /projects/{project_gid}/tasks" not in measured.by_endpoint, measured.by_endpoint
    assert measured.by_endpoint["GET /tasks/{task_gid}"] == 1, measured.by_endpoint
    assert "GET /projects/{project_gid}" not in measured.by_endpoint, measured.by_endpoint


def test_a_status_change_to_ready_for_review_starts_the_qa_review(rt: Runtime) -> None:
    """The dependency route sees the Status change first; it hands the event on as the QA route
    (its agent and arguments). It used to pass the QA arguments to the dependency manager, which
    refused them, so no review ever ran from a Status change."""
    measured = measure_case(rt, CASES["QA: task moved to Ready for Review"])
    assert [p.agent for p in rt.repo.list_proposals()] == ["qa"], measured
    assert measured.by_endpoint["POST /tasks/{task_gid}/stories"] == 1, measured.by_endpoint
    # Who the service's token is is asked once (the client keeps it), not by every route and agent.
    assert measured.by_endpoint["GET /users/{user_gid}"] == 1, measured.by_endpoint


def test_the_dependency_manager_reads_each_sprint_once_with_the_blockers_portfolio(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the Blockers portfolio (the product default) the dependency manager judges blockers on
    the sprint tasks it already read: one read of each project per handling, not two (the
    portfolio step used to read every sprint again in the stand-up's view)."""
    monkeypatch.setenv("SPRINTPILOT_BLOCKERS_PORTFOLIO", "Blockers")
    settings = load_settings(data_dir=tmp_path, asana_base_url=None, model="offline")
    with open_runtime(settings) as rt:
        case = CASES["dependencies: due date moved"]
        measure_case(rt, case)
        steady = measure_case(rt, case)
    # Kept lists: the backlog (3 pages) and the sprint are asked only for their changes.
    assert "GET /projects/{project_gid}/tasks" not in steady.by_endpoint, steady.by_endpoint
    assert steady.by_endpoint["GET /tasks"] == 2, steady.by_endpoint
    assert steady.calls <= 11, steady.by_endpoint


def test_a_task_removed_from_the_sprint_leaves_the_kept_list_at_the_next_event_run(rt: Runtime) -> None:
    """Asana's modified_at does not show a task leaving a project, so a modified_since read alone
    kept it. The removal event, stored in the inbox by any receiver, makes the next run read the
    project whole, even in a worker process that did not handle the removal itself."""
    case = CASES["dependencies: due date moved"]
    measure_case(rt, case)
    workspace = rt.allowed_workspaces()[0]
    sprint = rt.asana.find_project(workspace, "Sprint 23")
    kept = {t.gid: t for t in PROJECT_TASKS.tasks(rt.asana, sprint.gid, TaskView.STANDUP)}
    open_tasks = [t for t in kept.values() if not t.completed and not t.parent]
    moved = next(t for t in open_tasks if t.dependents and t.due_on)  # the case's own task
    leaving = next(t for t in reversed(open_tasks) if t.gid != moved.gid)
    rt.asana.remove_task_from_project(leaving.gid, sprint.gid)
    reconcile_project(rt.engine, rt.asana, sprint.gid)  # the removal event, stored in the inbox
    steady = measure_case(rt, case)
    # The task itself is read (its memberships say it left), not the whole sprint again.
    assert "GET /projects/{project_gid}/tasks" not in steady.by_endpoint, steady.by_endpoint
    assert leaving.gid not in {t.gid for t in PROJECT_TASKS.tasks(rt.asana, sprint.gid, TaskView.STANDUP)}
