"""Every decision takes the thread's run lock, and a proposal prefix is found by the database
(issue 14 defects: CLI and HTTP approvals resumed a thread without its lock; prefix lookup loaded
up to 10,000 proposals into Python)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from agents.proposal import Proposal, Scope
from graphs.runner import start_run
from service.approvals import ApprovalError, build_decisions, decide, find_proposal, pending_request
from service.events.locks import ThreadLocked, thread_lock
from service.runtime import Runtime, open_runtime
from service.settings import load_settings
from tests.api.conftest import API_TOKEN, APPROVER, Api

pytestmark = pytest.mark.integration


def _plan(rt: Runtime) -> str:
    ws = rt.resolve_workspace()
    ctx = rt.context(actor="agent:planner", approver_gid=rt.approver_for(ws, "Product Backlog"))
    out = start_run(
        rt.graph, ctx, uuid.uuid4().hex, {"agent": "planner", "args": {"project": "Product Backlog"}}
    )
    assert out.status == "awaiting_approval" and out.interrupt is not None
    return str(out.interrupt["proposal_id"])


@contextmanager
def _held_elsewhere(engine: Any, thread_id: str) -> Iterator[None]:
    """Hold the thread's lock from another Python thread (as a worker or a second CLI would)."""
    taken, release = threading.Event(), threading.Event()

    def hold() -> None:
        with thread_lock(engine, thread_id, wait_s=5):
            taken.set()
            release.wait(30)

    holder = threading.Thread(target=hold, daemon=True)
    holder.start()
    assert taken.wait(10)
    try:
        yield
    finally:
        release.set()
        holder.join(10)


def test_a_cli_decision_waits_for_the_lock_and_then_applies(tmp_path: Path) -> None:
    with open_runtime(load_settings(data_dir=tmp_path, asana_base_url=None, model="offline")) as rt:
        record = find_proposal(rt, _plan(rt))
        decisions = build_decisions(pending_request(rt, record))
        with _held_elsewhere(rt.engine, record.thread_id), pytest.raises(ThreadLocked):
            decide(rt, record, decisions, "cli:po", lock_wait_s=0.3)
        assert rt.repo.get_proposal(record.id).status == "pending"  # type: ignore[union-attr]
        outcome = decide(rt, record, decisions, "cli:po")
        assert outcome.status == "done"
        # The loser of a race finds nothing pending, under the same lock.
        with pytest.raises(ApprovalError, match="not waiting for approval"):
            decide(rt, record, decisions, "cli:other")


def test_an_api_decision_answers_409_while_another_holds_the_thread(api: Api) -> None:
    settings = api.settings
    with open_runtime(settings) as rt:
        pid = _plan(rt)
        record = find_proposal(rt, pid)
        request = pending_request(rt, record)
    body = {
        "decisions": [{"type": "approve"}] * len(request["action_requests"]),
        "decided_by": APPROVER,
        "digest": request["digest"],
    }
    headers = {"Authorization": f"Bearer {API_TOKEN}"}
    with _held_elsewhere(api.engine, record.thread_id):
        busy = httpx.post(f"{api.url}/approvals/{pid}", json=body, headers=headers, timeout=60)
    assert busy.status_code == 409, busy.text
    done = httpx.post(f"{api.url}/approvals/{pid}", json=body, headers=headers, timeout=120)
    assert done.status_code == 200, done.text


def test_prefix_lookup_is_answered_by_the_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with open_runtime(load_settings(data_dir=tmp_path, asana_base_url=None, model="offline")) as rt:
        for pid in ("abcdef111", "abcdef222", "abcdeg333", "abcd%f444"):
            rt.repo.save_proposal(
                f"t-{pid}",
                Proposal(id=pid, agent="x", scope=Scope(workspace_gid="1"), title="t", summary_markdown="s"),
                "pending",
            )

        def no_scan(*args: object, **kwargs: object) -> None:
            raise AssertionError("prefix lookup must not list proposals into Python")

        monkeypatch.setattr(rt.repo, "list_proposals", no_scan)
        assert find_proposal(rt, "abcdeg").id == "abcdeg333"
        assert find_proposal(rt, "abcdef1").id == "abcdef111"
        with pytest.raises(ApprovalError, match="2 proposals start with"):
            find_proposal(rt, "abcdef")
        with pytest.raises(ApprovalError, match="no proposal"):
            find_proposal(rt, "zzzzzz")
        # LIKE wildcards in what a user types are literal characters.
        with pytest.raises(ApprovalError, match="no proposal"):
            find_proposal(rt, "abcd_f")
        assert find_proposal(rt, "abcd%f").id == "abcd%f444"
        # A prefix shorter than 6 never picks a proposal, even a unique one ("9" approved a plan).
        with pytest.raises(ApprovalError, match="give at least 6 characters"):
            find_proposal(rt, "abcd%")
        assert find_proposal(rt, "abcdeg333").id == "abcdeg333"  # a whole id of any length is fine


def test_two_deciders_at_once_one_wins_and_the_other_is_told_who(tmp_path: Path, pg_url: str) -> None:
    """Issue 15 reproduction 2: CLI approve and API reject at the same instant both went through."""
    from service.db.migrate import migrate

    settings = load_settings(
        data_dir=tmp_path,
        database_url=pg_url,
        asana_base_url=None,
        model="offline",
        approvers=[APPROVER, "sofia.kowalski@acme.example"],
    )
    migrate(settings)
    with open_runtime(settings) as rt:
        record = find_proposal(rt, _plan(rt))
        request = pending_request(rt, record)
        approve = build_decisions(request)
        reject = build_decisions(request, reject_all=True, message="not now")
        results: dict[str, object] = {}
        start = threading.Barrier(2)

        def run(who: str, decisions: list[Any]) -> None:
            start.wait()
            try:
                results[who] = decide(rt, record, decisions, who, request["digest"], lock_wait_s=60).status
            except ApprovalError as err:
                results[who] = err

        threads = [
            threading.Thread(target=run, args=(f"cli:{APPROVER}", approve)),
            threading.Thread(target=run, args=("api:sofia.kowalski@acme.example", reject)),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)

        winners = [w for w, r in results.items() if r == "done"]
        losers = [r for r in results.values() if isinstance(r, ApprovalError)]
        assert len(winners) == 1 and len(losers) == 1, results
        assert f"already decided by {winners[0]}" in str(losers[0])
        detail = rt.repo.get_proposal(record.id)
        assert detail is not None and {d.decided_by for d in detail.decisions} == {winners[0]}
        decision_rows = [r for r in rt.audit.rows(limit=10_000) if r.event.startswith("decision.")]
        assert len(decision_rows) == len(request["action_requests"])
        assert {r.actor for r in decision_rows} == {f"human:{winners[0]}"}
