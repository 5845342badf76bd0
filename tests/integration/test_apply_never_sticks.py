"""Approved work interrupted by faults is resumed to the end, each write exactly once (issue 15,
reproduction 3: "stops after 6 of 46 actions; afterwards nothing ever finishes it")."""

from __future__ import annotations

import re
import uuid
from collections import Counter
from pathlib import Path

import pytest

from graphs.runner import start_run
from sandbox.faults import FaultConfig
from service.approvals import (
    ApplyInterrupted,
    ApprovalError,
    build_decisions,
    decide,
    find_proposal,
    pending_request,
    resume,
    resume_interrupted,
)
from service.runtime import Runtime, open_runtime
from service.settings import load_settings

pytestmark = pytest.mark.integration


def _faults(rt: Runtime, **config: object) -> None:
    assert rt.sandbox is not None and rt.sandbox.server is not None
    rt.sandbox.server.services.faults.configure(FaultConfig.model_validate(config))


def test_faults_during_approve_then_the_sweep_finishes_it_exactly_once(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, asana_base_url=None, model="offline")
    with open_runtime(settings) as rt:
        ws = rt.resolve_workspace()
        ctx = rt.context(actor="agent:planner", approver_gid=rt.approver_for(ws, "Product Backlog"))
        out = start_run(
            rt.graph, ctx, uuid.uuid4().hex, {"agent": "planner", "args": {"project": "Product Backlog"}}
        )
        assert out.interrupt is not None
        record = find_proposal(rt, out.interrupt["proposal_id"])
        decisions = build_decisions(pending_request(rt, record))

        # Every third POST fails with a 503 (before Asana does anything, as the sandbox does).
        _faults(rt, rate_5xx=0.35, methods=["POST"], seed=3)
        with pytest.raises(ApplyInterrupted, match="approvals resume"):
            decide(rt, record, decisions, "cli:po")
        assert rt.repo.get_proposal(record.id).status == "approved"  # type: ignore[union-attr]
        # Deciding again is refused (it is decided), but nothing is stuck: resume and the sweep exist.
        with pytest.raises(ApprovalError, match="not waiting for approval"):
            decide(rt, record, decisions, "cli:po")

        for _ in range(30):  # the sweep, run again and again while the faults go on
            resume_interrupted(rt)
            if rt.repo.get_proposal(record.id).status != "approved":  # type: ignore[union-attr]
                break
        _faults(rt)
        resume_interrupted(rt)  # whatever is left once Asana is healthy again
        assert resume(rt, record) is None  # nothing left to resume

        final = rt.repo.get_proposal(record.id)
        assert final is not None and final.status == "applied", final.status
        # Counted in the sandbox's data (its request stats also count the refused 503 attempts).
        assert rt.sandbox is not None
        store = rt.sandbox.store
        assert [p.name for p in store.projects.values()].count("Sprint 24") == 1
        markers = Counter(
            m for story in store.stories.values() for m in re.findall(r"⟨sp:[0-9a-f]+⟩", story.text or "")
        )
        assert markers and max(markers.values()) == 1, markers.most_common(3)
        # Exactly one ledger entry per action, all done; no action written twice.
        assert {e.status.value for e in final.ledger} == {"done"}
        indexes = [e.action_index for e in final.ledger]
        assert len(set(indexes)) == len(indexes)
        assert set(range(len(final.proposal.actions))) <= set(indexes)  # + the report's result comment
        sprint = next(p for p in rt.asana.projects(ws) if p.name == "Sprint 24")
        assert len(rt.asana.sections(sprint.gid)) == len({s.name for s in rt.asana.sections(sprint.gid)})


def test_ctrl_c_in_the_middle_of_automatic_writes_is_finished_by_the_sweep(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`triage --project … --limit N` interrupted part-way used to stay "pending" with some writes
    done and never be finished."""
    settings = load_settings(data_dir=tmp_path, asana_base_url=None, model="offline")
    with open_runtime(settings) as rt:
        real = rt.asana.add_comment
        calls = {"n": 0}

        def interrupted(task_gid: str, text: str | None = None, **kw: str) -> object:
            calls["n"] += 1
            if calls["n"] == 3:
                raise KeyboardInterrupt
            return real(task_gid, text, **kw)

        monkeypatch.setattr(rt.asana, "add_comment", interrupted)
        request = {"agent": "triage", "args": {"project": "Product Backlog", "unestimated": True, "limit": 5}}
        with pytest.raises(KeyboardInterrupt):
            start_run(rt.graph, rt.context(actor="agent:triage"), uuid.uuid4().hex, request)
        (record,) = rt.repo.list_proposals(status="pending")
        monkeypatch.setattr(rt.asana, "add_comment", real)

        resumed = resume_interrupted(rt)
        assert [pid for pid, _ in resumed] == [record.id]
        final = rt.repo.get_proposal(record.id)
        assert final is not None and final.status == "applied", final.status
        assert rt.sandbox is not None
        markers = Counter(
            m
            for story in rt.sandbox.store.stories.values()
            for m in re.findall(r"⟨sp:[0-9a-f]+⟩", story.text or "")
        )
        assert max(markers.values()) == 1
        assert resume_interrupted(rt) == []


def test_ctrl_c_while_a_chat_approval_applies_is_finished_by_the_sweep(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A chat apply stopped by Ctrl-C used to stay "applying" for ever."""
    from service.chat_runtime import chat_session

    settings = load_settings(
        data_dir=tmp_path, asana_base_url=None, model="offline", approvers=["priya.brooks@acme.example"]
    )
    with open_runtime(settings) as rt:
        session = chat_session(rt, "pm-9", "priya.brooks@acme.example")
        list(session.send("plan Product Backlog capacity 20"))
        pending_request_ = session.pending()
        assert pending_request_ is not None
        real = rt.asana.add_task_to_project
        calls = {"n": 0}

        def interrupted(*args: object, **kwargs: object) -> None:
            calls["n"] += 1
            if calls["n"] == 4:
                raise KeyboardInterrupt
            real(*args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(rt.asana, "add_task_to_project", interrupted)
        with pytest.raises(KeyboardInterrupt):
            list(session.send("approve"))
        monkeypatch.setattr(rt.asana, "add_task_to_project", real)
        (record,) = rt.repo.list_proposals(status="approved")

        assert [pid for pid, _ in resume_interrupted(rt)] == [record.id]
        final = rt.repo.get_proposal(record.id)
        assert final is not None and final.status == "applied", final.status
        sprint = rt.asana.find_project(rt.resolve_workspace(), "Sprint 24")
        tasks = [t.gid for t in rt.asana.project_tasks(sprint.gid)]
        assert len(tasks) == len(set(tasks)) > 3
