"""The planner's whole flow on the production-shaped stack: real Postgres (app DB + checkpoints),
the sandbox Asana over HTTP, the real typed client; decisions from separate processes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import psycopg
import pytest

from graphs.runner import recover_run, start_run
from service.approvals import build_decisions, decide, find_proposal
from service.db.migrate import migrate
from service.runtime import Runtime, open_runtime
from service.settings import Settings, load_settings
from tools.asana.client import AsanaClient

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def settings(tmp_path: Path, pg_url: str) -> Settings:
    s = load_settings(data_dir=tmp_path, database_url=pg_url, asana_base_url=None, model="offline")
    migrate(s)  # a shared database is migrated by `db migrate`/serve/worker, never by a command
    return s


def _cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    """`sprintpilot …` in a fresh Python process (nothing shared but Postgres and the sandbox file)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPRINTPILOT_")}
    env.update(
        SPRINTPILOT_DATABASE_URL=settings.db_url,
        SPRINTPILOT_DATA_DIR=str(settings.data_dir),
        SPRINTPILOT_MODEL="offline",
        COLUMNS="200",
    )
    return subprocess.run(
        [sys.executable, "-m", "service.cli.main", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def _plan(rt: Runtime) -> tuple[str, dict[str, Any]]:
    ws = rt.allowed_workspaces()[0]
    ctx = rt.context(actor="agent:planner", approver_gid=rt.approver_for(ws, "Product Backlog"))
    thread_id = uuid.uuid4().hex
    request = {"agent": "planner", "args": {"project": "Product Backlog"}}
    outcome = start_run(rt.graph, ctx, thread_id, request)
    assert outcome.status == "awaiting_approval", outcome.report
    assert outcome.interrupt is not None
    return thread_id, outcome.interrupt


def _mutations(rt: Runtime) -> Counter[str]:
    assert rt.sandbox is not None
    return Counter(rt.sandbox.store.stats.snapshot()["mutating"])


def test_plan_waits_at_gate_and_resumes_in_a_new_process(settings: Settings) -> None:
    planned = _cli(settings, "plan", "--json")
    assert planned.returncode == 0, planned.stderr
    request = json.loads(planned.stdout)["approval_request"]
    pid = request["proposal_id"]

    approved = _cli(settings, "approvals", "approve", pid[:12], "--as", "po")
    assert approved.returncode == 0, approved.stdout + approved.stderr
    assert "run applied" in approved.stdout

    with open_runtime(settings) as rt:
        record = find_proposal(rt, pid)
        assert record.status == "applied"
        ws = rt.allowed_workspaces()[0]
        sprint = rt.asana.find_project(ws, "Sprint 24")
        tasks = rt.asana.project_tasks(sprint.gid)
        chosen = [r for r in request["action_requests"] if r["name"] == "add_to_project"]
        assert len(tasks) == len(chosen) > 0
        assert {t.field("Sprint") for t in tasks} == {"Sprint 24"}
        assert rt.asana.status_updates(sprint.gid), "the plan summary was posted on the sprint project"

    verified = _cli(settings, "audit", "verify")
    assert verified.returncode == 0 and "audit log OK" in verified.stdout


def test_no_write_before_approval_and_reject_writes_nothing(settings: Settings) -> None:
    with open_runtime(settings) as rt:
        before = _mutations(rt)
        thread_id, request = _plan(rt)
        during = _mutations(rt) - before
        # Only the approval surface: the approval task and its [AI Proposal] comment.
        assert during == Counter({"POST /tasks": 1, "POST /tasks/{task_gid}/stories": 1}), during
        task = rt.asana.task(request["approval_task_gid"])
        assert task.resource_subtype == "approval" and task.approval_status == "pending"
        assert task.assignee is not None and task.due_at is not None

        record = find_proposal(rt, request["proposal_id"])
        decisions = build_decisions(request, reject_all=True, message="not this sprint")
        outcome = decide(rt, record, decisions, "cli:po", request["digest"])
        assert outcome.status == "done"
        after = _mutations(rt) - before - during
        # The only writes after a rejection are on the approval task: the result comment, and the
        # task marked rejected and completed (the decision taken in the CLI, mirrored in Asana).
        assert after == Counter({"POST /tasks/{task_gid}/stories": 1, "PUT /tasks/{task_gid}": 1}), after
        closed = rt.asana.task(request["approval_task_gid"])
        assert closed.approval_status == "rejected" and closed.completed
        ws = rt.allowed_workspaces()[0]
        assert not [p for p in rt.asana.projects(ws, archived=None) if p.name == "Sprint 24"]
        events = [r.event for r in rt.audit.rows(limit=1000, proposal_id=request["proposal_id"])]
        assert events.count("decision.reject") == len(request["action_requests"])
        assert find_proposal(rt, request["proposal_id"]).status == "rejected"


class SimulatedCrash(BaseException):
    """A process death: not an Exception, so nothing on the way catches it."""


class CrashAfterWrites:
    """The real client, except that the process 'dies' right after its Nth write reached Asana."""

    WRITES = {
        "create_project",
        "add_custom_field_to_project",
        "update_section",
        "create_section",
        "add_task_to_project",
        "update_task",
        "add_comment",
        "create_status_update",
        "create_task",
        "add_task_to_section",
    }

    def __init__(self, client: AsanaClient, crash_after: int) -> None:
        self._client = client
        self._left = crash_after

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._client, name)
        if name not in self.WRITES:
            return attr

        def write(*args: Any, **kwargs: Any) -> Any:
            result = attr(*args, **kwargs)
            self._left -= 1
            if self._left == 0:
                raise SimulatedCrash(name)
            return result

        return write


def test_crash_mid_apply_then_resume_writes_each_action_exactly_once(settings: Settings) -> None:
    with open_runtime(settings) as rt:
        thread_id, request = _plan(rt)
        record = find_proposal(rt, request["proposal_id"])
        base = _mutations(rt)
        ctx = rt.context(actor="cli:po")
        # The 9th write is the 8th of the backlog's 11 custom fields put on the new sprint project.
        ctx.writes = CrashAfterWrites(rt.asana, crash_after=9)  # type: ignore[assignment]
        from graphs.runner import resume_run

        with pytest.raises(SimulatedCrash):
            resume_run(rt.graph, ctx, thread_id, build_decisions(request), "cli:po", request["digest"])
        assert record.id
        before_crash = _mutations(rt) - base
        assert sum(before_crash.values()) == 9

    # A new runtime (new pool, graph, client) picks the thread up from the Postgres checkpoint.
    with open_runtime(settings) as rt:
        outcome = recover_run(rt.graph, rt.context(actor="system:recover"), thread_id)
        assert outcome.status == "done", outcome.report
        # The sandbox counts per process: add what reached it before the crash.
        done = before_crash + _mutations(rt)
        kinds = Counter(r["name"] for r in request["action_requests"])
        assert done["POST /teams/{team_gid}/projects"] == 1  # projects in an organization need a team
        # The first column takes over the new project's "Untitled section" (renamed, not created).
        assert done["PUT /sections/{section_gid}"] == 1
        assert done["POST /projects/{project_gid}/sections"] == kinds["create_section"] - 1
        fields = next(r for r in request["action_requests"] if r["name"] == "add_project_fields")
        assert done["POST /projects/{project_gid}/addCustomFieldSetting"] == len(
            fields["args"]["params"]["fields"]
        )
        assert done["POST /tasks/{task_gid}/addProject"] == kinds["add_to_project"]
        ws = rt.allowed_workspaces()[0]
        sprints = [p for p in rt.asana.projects(ws, archived=None) if p.name == "Sprint 24"]
        assert len(sprints) == 1
        assert len(rt.asana.project_tasks(sprints[0].gid)) == kinds["add_to_project"]
        assert len(rt.asana.status_updates(sprints[0].gid)) == 1
        assert "Untitled section" not in [s.name for s in rt.asana.sections(sprints[0].gid)]


def test_value_changed_in_asana_after_proposal_is_a_conflict(settings: Settings) -> None:
    with open_runtime(settings) as rt:
        thread_id, request = _plan(rt)
        field_req = next(r for r in request["action_requests"] if r["name"] == "set_custom_field")
        task_gid = field_req["args"]["target"]
        # A teammate moves the task to another sprint while the plan waits for approval.
        assert rt.sandbox is not None
        human = rt.sandbox.token_for(rt.approver_for(rt.allowed_workspaces()[0], "Product Backlog") or "")
        assert human
        with AsanaClient(rt.sandbox.base_url, human) as teammate:
            backlog = rt.asana.find_project(rt.allowed_workspaces()[0], "Product Backlog")
            fields = teammate.field_map(backlog.gid).to_custom_fields({"Sprint": "Sprint 99"})
            teammate.update_task(task_gid, {"custom_fields": fields})

        record = find_proposal(rt, request["proposal_id"])
        outcome = decide(rt, record, build_decisions(request), "cli:po", request["digest"])
        assert outcome.report is not None
        assert rt.asana.task(task_gid).field("Sprint") == "Sprint 99"  # not overwritten
        conflicts = outcome.report["conflicts"]
        assert [c["target"] for c in conflicts] == [task_gid], conflicts
        assert outcome.report["status"] == "partially_applied"


def test_tampered_audit_row_is_named_by_audit_verify(settings: Settings) -> None:
    assert _cli(settings, "plan", "--json").returncode == 0
    with psycopg.connect(settings.db_url, autocommit=True) as conn:
        victim = conn.execute("SELECT min(id) + 2 FROM audit_log").fetchone()[0]
        conn.execute("ALTER TABLE audit_log DISABLE TRIGGER USER")
        conn.execute("UPDATE audit_log SET outcome = 'ok-forged' WHERE id = %s", (victim,))
    result = _cli(settings, "audit", "verify")
    assert result.returncode == 2
    assert f"row {victim}" in " ".join(result.stdout.split())
