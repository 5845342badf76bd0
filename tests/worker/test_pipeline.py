"""The event pipeline end to end: sandbox Asana → signed webhook over HTTP → FastAPI receiver →
inbox/outbox (Postgres) → relay (beat) → Redis → a real Celery worker process → graph resume → Asana.

One stack per module (private redis-server as the broker, so it can be stopped; a fresh Postgres
database; the sandbox; the API; a worker with prefork children and beat as subprocesses).
"""

from __future__ import annotations

import os
import shutil
import signal
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from evals.pipeline_stack import PipelineStack, PrivateRedis, wait_for
from service.db.engine import read_session
from service.db.events import InboxEvent
from service.db.models import AuditRow
from service.events.reconcile import reconcile_project
from service.metrics import create_db_metrics
from service.worker.app import make_celery
from service.worker.config import EVENTS_QUEUE, MAINTENANCE_QUEUE

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

MAX_DELIVERIES = 3
HERE = Path(__file__).resolve().parent
FINISHED = {"applied", "partially_applied", "rejected", "failed", "error", "conflict"}


def _prepare(stack: PipelineStack) -> dict[str, str]:
    crash = stack.asana.create_task(
        name="poison", workspace_gid=stack.ws.workspace_gid, projects=[stack.ws.backlog_project_gid]
    )
    stack.crash_gid = crash.gid  # type: ignore[attr-defined]
    return {"SPRINTPILOT_TEST_CRASH_GID": crash.gid}


@pytest.fixture(scope="module")
def stack(pg_admin_url: str) -> Iterator[PipelineStack]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    env = {
        "SPRINTPILOT_WORKER_MAX_DELIVERIES": str(MAX_DELIVERIES),
        "SPRINTPILOT_WORKER_VISIBILITY_TIMEOUT_S": "20",
        "SPRINTPILOT_WORKER_RETRY_BACKOFF_S": "1",
        "SPRINTPILOT_WORKER_RETRY_BACKOFF_MAX_S": "2",
        "SPRINTPILOT_WORKER_LOCK_WAIT_S": "2",
    }
    with PipelineStack(
        pg_admin_url=pg_admin_url,
        worker_env=env,
        celery_app="worker_testapp",
        extra_pythonpath=str(HERE),
        prepare=_prepare,
    ) as st:
        _settle(st)
        yield st


def _settle(stack: PipelineStack) -> None:
    """Wait until the events the setup caused (the poison task's arrival is triaged) are handled,
    so a test's before/after count of Asana writes sees only its own (under load that triage ran
    late and its four field writes and comment landed inside the first test's count)."""
    last: list[int] = []

    def quiet() -> bool:
        rows = stack.inbox_rows()
        seen = [len(rows), sum(r.status == "new" for r in rows)]
        calm = seen == last and seen[1] == 0
        last[:] = seen
        return calm

    wait_for(quiet, 120, 1.0, "the setup's events to be handled")


@pytest.fixture(scope="module")
def sender(stack: PipelineStack) -> Any:
    return make_celery(stack.settings)


def _approval_rows(stack: PipelineStack, task_gid: str) -> list[InboxEvent]:
    return [
        r
        for r in stack.inbox_rows()
        if r.resource_gid == task_gid and (r.payload.get("change") or {}).get("field") == "approval_status"
    ]


def _wait_status(stack: PipelineStack, proposal_id: str, timeout: float = 60) -> str:
    def done() -> str | None:
        status = stack.proposal_status(proposal_id)
        return status if status in FINISHED else None

    try:
        return str(wait_for(done, timeout, 0.1, f"proposal {proposal_id[:8]} to finish"))
    except TimeoutError:
        # The outbox relay logs twice a second; what went wrong is in the other lines.
        lines = [ln for ln in stack.log("worker").splitlines() if "relay_outbox" not in ln]
        print("\n".join(lines[-80:]))
        raise


def _wait_row(stack: PipelineStack, task_gid: str, index: int = 0, status: str = "done") -> InboxEvent:
    def ready() -> InboxEvent | None:
        rows = _approval_rows(stack, task_gid)
        return rows[index] if len(rows) > index and rows[index].status == status else None

    return wait_for(ready, 30, 0.1, f"inbox row {index} of {task_gid} to be {status}")


def _adds(request: dict[str, Any]) -> int:
    return sum(1 for r in request["action_requests"] if r["name"] == "add_to_project")


def _assert_applied_once(request: dict[str, Any], delta: Counter[str]) -> None:
    assert _adds(request) > 0
    assert delta["POST /tasks/{task_gid}/addProject"] == _adds(request), delta
    assert delta["POST /status_updates"] == 1, delta


def test_approval_in_asana_resumes_thread_and_applies_once(stack: PipelineStack, sender: Any) -> None:
    request = stack.plan()
    task_gid, pid = request["approval_task_gid"], request["proposal_id"]
    before = stack.mutations()
    stack.set_approval(task_gid, "approved")
    assert _wait_status(stack, pid) == "applied"
    applied = stack.mutations() - before
    _assert_applied_once(request, applied)
    _wait_row(stack, task_gid)
    rows = _approval_rows(stack, task_gid)
    assert [(r.source, r.status) for r in rows] == [("webhook", "done")]

    # The same message delivered twice more (e.g. republished by the relay): no second apply.
    for _ in range(2):
        sender.send_task("sprintpilot.process_event", args=[rows[0].id], queue=EVENTS_QUEUE)
    wait_for(lambda: (d := stack.delivery(rows[0].id)) and d.attempts >= 3, 30, what="redeliveries")
    # A second approval event on the decided proposal: a no-op (only the approver's own PUT).
    stack.set_approval(task_gid, "changes_requested")
    _wait_row(stack, task_gid, 1, "skipped")
    assert stack.mutations() - before - applied == Counter({"PUT /tasks/{task_gid}": 1})
    assert stack.proposal_status(pid) == "applied"


def test_worker_killed_mid_apply_redelivers_and_writes_exactly_once(stack: PipelineStack) -> None:
    request = stack.plan()
    task_gid = request["approval_task_gid"]
    assert _adds(request) >= 3, "the plan must have writes left to interrupt"
    before = stack.mutations()
    requests_before = stack.sandbox.store.stats.total
    stack.faults(latency_ms=300, methods=["POST"])  # slow writes: a run to kill in the middle
    try:
        stack.set_approval(task_gid, "approved")
        try:
            wait_for(
                lambda: (stack.mutations() - before)["POST /tasks/{task_gid}/addProject"] >= 2,
                60,
                what="apply",
            )
        except TimeoutError:
            print(stack.log("worker")[-5000:], stack.log("beat")[-2000:])
            raise
        row = _approval_rows(stack, task_gid)[0]
        delivery = stack.delivery(row.id)
        assert delivery is not None and delivery.attempts == 1 and delivery.last_worker
        os.kill(int(delivery.last_worker.rsplit(":", 1)[1]), signal.SIGKILL)
    finally:
        stack.faults(latency_ms=0, methods=[])
    assert _wait_status(stack, request["proposal_id"], timeout=90) == "applied"
    delta = stack.mutations() - before
    # Every write took effect exactly once. The request in flight at the kill is probed on
    # recovery (the task's memberships are read): if it landed it is not sent again; if the kill
    # cut it off before it took effect, it is sent once more - at most one such request.
    assert delta["POST /status_updates"] == 1
    assert delta["POST /tasks/{task_gid}/addProject"] in (_adds(request), _adds(request) + 1), delta
    stats = stack.sandbox.store.stats
    recent = list(stats.log)[-(stats.total - requests_before) :]
    paths = Counter(e.path for e in recent if e.template == "/tasks/{task_gid}/addProject")
    assert sum(1 for n in paths.values() if n > 1) <= 1, paths
    sprint = {
        r["args"]["params"].get("project")
        for r in request["action_requests"]
        if r["name"] == "add_to_project"
    }
    for gid in (r["args"]["target"] for r in request["action_requests"] if r["name"] == "add_to_project"):
        if not str(gid).startswith("ref:"):
            projects = [m["project"] for m in stack.sandbox.store.tasks[gid].memberships]
            assert len(projects) == len(set(projects))  # never added twice
    assert sprint
    _wait_row(stack, task_gid)
    delivery = stack.delivery(row.id)
    assert delivery is not None and delivery.attempts == 2 and delivery.finished_at is not None


def test_rejection_in_asana_writes_nothing(stack: PipelineStack) -> None:
    request = stack.plan()
    before = stack.mutations()
    stack.set_approval(request["approval_task_gid"], "rejected")
    assert _wait_status(stack, request["proposal_id"]) == "rejected"
    delta = stack.mutations() - before
    # The approver's PUT and the result comment on the approval task; nothing planned was written.
    assert set(delta) <= {"PUT /tasks/{task_gid}", "POST /tasks/{task_gid}/stories"}, delta
    assert delta["PUT /tasks/{task_gid}"] == 1


def test_same_event_three_times_by_two_paths_runs_once(stack: PipelineStack) -> None:
    backlog = stack.ws.backlog_project_gid
    reconcile_project(stack.engine, stack.asana, backlog)  # the poller starts watching from now
    stack.faults(webhook_dup=1.0)
    try:
        request = stack.plan()
        before = stack.mutations()
        stack.set_approval(request["approval_task_gid"], "approved")
        # The third copy: the events API, read while the webhook copies are being handled.
        reconcile_project(stack.engine, stack.asana, backlog)
        assert _wait_status(stack, request["proposal_id"]) == "applied"
    finally:
        stack.faults(webhook_dup=0.0)
    _assert_applied_once(request, stack.mutations() - before)
    _wait_row(stack, request["approval_task_gid"])
    rows = _approval_rows(stack, request["approval_task_gid"])
    assert len(rows) == 1 and rows[0].status == "done"
    delivery = stack.delivery(rows[0].id)
    assert delivery is not None and delivery.attempts == 1


def test_dropped_webhook_is_caught_up_by_reconciliation(stack: PipelineStack, sender: Any) -> None:
    backlog = stack.ws.backlog_project_gid
    reconcile_project(stack.engine, stack.asana, backlog)  # token up to date
    stack.faults(webhook_drop=1.0)
    try:
        request = stack.plan()
        before = stack.mutations()
        stack.set_approval(request["approval_task_gid"], "approved")
        time.sleep(1.5)
        assert _approval_rows(stack, request["approval_task_gid"]) == []
        assert stack.proposal_status(request["proposal_id"]) == "pending"
    finally:
        stack.faults(webhook_drop=0.0)
    sender.send_task("sprintpilot.reconcile", args=[backlog], queue=MAINTENANCE_QUEUE)
    assert _wait_status(stack, request["proposal_id"]) == "applied"
    _assert_applied_once(request, stack.mutations() - before)
    _wait_row(stack, request["approval_task_gid"])
    rows = _approval_rows(stack, request["approval_task_gid"])
    assert [(r.source, r.status) for r in rows] == [("events_api", "done")]


def test_poison_message_is_quarantined_after_n_deliveries(stack: PipelineStack) -> None:
    crash_gid = stack.crash_gid  # type: ignore[attr-defined]
    stack.approver.update_task(crash_gid, {"name": "poison, renamed"})

    def quarantined() -> InboxEvent | None:
        rows = [r for r in stack.inbox_rows() if r.resource_gid == crash_gid]
        return next((r for r in rows if r.status == "quarantined"), None)

    try:
        row = wait_for(quarantined, 200, 0.2, "quarantine")
    except TimeoutError:
        print("\n".join(ln for ln in stack.log("worker").splitlines() if "relay_outbox" not in ln)[-6000:])
        raise
    delivery = stack.delivery(row.id)
    assert delivery is not None
    assert delivery.attempts == MAX_DELIVERIES + 1 and delivery.quarantined_at is not None
    with read_session(stack.engine) as session:
        events = list(session.scalars(select(AuditRow.event).where(AuditRow.event == "message.quarantined")))
    assert events == ["message.quarantined"]
    scrape = create_db_metrics(stack.engine).render().decode()
    assert 'inbox_events{status="quarantined"} 1.0' in scrape


# A task in flight when Redis stops finishes after the reconnect and acks on its closed channel;
# kombu's AttributeError there used to stop the worker consuming (service/worker/transport.py).
# Last in the module: once in a full CI run the worker stopped quarantining the poison message after
# this outage (a wedge not reproduced alone), so no later test depends on a worker that lived it.
def test_broker_down_events_wait_in_outbox_and_run_after_recovery(stack: PipelineStack) -> None:
    request = stack.plan()
    task_gid = request["approval_task_gid"]
    port = stack.broker.port
    stack.broker.stop()
    try:
        stack.set_approval(task_gid, "approved")
        # The receiver stored the event durably although the broker is gone.
        wait_for(lambda: _approval_rows(stack, task_gid), 20, what="event in the inbox")
        time.sleep(1.5)
        row = _approval_rows(stack, task_gid)[0]
        assert row.status == "new"
        outbox = [o for o in stack.outbox_rows() if o.inbox_id == row.id]
        assert len(outbox) == 1 and outbox[0].published_at is None
    finally:
        stack.broker = PrivateRedis(port).start()
    # Generous: the worker's broker reconnect backs off, and a loaded 2-core box is slow; under the
    # test's own timeout, so a miss prints the worker's log (_wait_status) before pytest stops it.
    assert _wait_status(stack, request["proposal_id"], timeout=180) == "applied"
    _wait_row(stack, task_gid)
