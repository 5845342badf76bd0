"""History and audit pages: runs with each proposal's lifecycle and writes, the audit log with
filters and paging, chain verification, and nothing of a project the person cannot see."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from agents.proposal import Action, ActionKind, Decision, DecisionType, Proposal, Scope
from graphs.ports import AuditRecord, LedgerEntry, LedgerStatus
from service.api import create_api
from service.runtime import Runtime, open_runtime
from service.settings import load_settings

PRIYA, RAVI = "priya.brooks@acme.example", "ravi.rossi@acme.example"
PRIYA_GID, TEAM = "1200000000000002", "1200000000000012"


def _tables(html: str) -> dict[str, str]:
    return {
        m.group(1): m.group(2) for m in re.finditer(r'<table data-testid="(\w+)">(.*?)</table>', html, re.S)
    }


def _proposal(rt: Runtime, thread: str, project_gid: str, title: str, model: str) -> Proposal:
    ws = rt.resolve_workspace()
    proposal = Proposal(
        agent="planner",
        scope=Scope(workspace_gid=ws, project_gids=[project_gid]),
        title=title,
        summary_markdown="-",
        actions=[
            Action(kind=ActionKind.POST_COMMENT, target="1200000000000999", params={"text": "hi"}, reason="r")
        ],
        model=model,
    )
    rt.repo.record_run(thread, "planner", "cli", {"project": project_gid})
    rt.repo.save_proposal(thread, proposal, "pending")
    rt.audit.append(
        AuditRecord(
            actor="system:planner",
            event="proposal.created",
            outcome="pending",
            thread_id=thread,
            proposal_id=proposal.id,
        )
    )
    return proposal


def _apply(rt: Runtime, thread: str, proposal: Proposal, who: str) -> None:
    rt.repo.save_decisions(proposal.id, [Decision(type=DecisionType.APPROVE)], who)
    rt.repo.set_proposal_status(proposal.id, "approved")
    key = f"k-{proposal.id[:8]}"
    rt.journal.begin(
        LedgerEntry(
            key=key,
            thread_id=thread,
            proposal_id=proposal.id,
            action_index=0,
            kind="post_comment",
            target="1200000000000999",
            status=LedgerStatus.PENDING,
        )
    )
    rt.journal.finish(
        key,
        LedgerStatus.DONE,
        {"message": "applied"},
        AuditRecord(
            actor="system:apply",
            event="action.applied",
            outcome="done",
            thread_id=thread,
            proposal_id=proposal.id,
            action_index=0,
            target="1200000000000999",
        ),
    )
    rt.repo.set_proposal_status(proposal.id, "applied")
    rt.repo.set_run_status(thread, "done")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Runtime, dict[str, str]]]:
    data_dir: Path = tmp_path_factory.mktemp("console-history")
    settings = load_settings(
        data_dir=data_dir,
        asana_base_url=None,
        model="offline",
        api_token="tok",
        approvers=[PRIYA],
        # Explicit: a module-scoped fixture runs before the per-test environment cleaning.
        database_url=None,
        approver=None,
    )
    with open_runtime(settings) as rt:
        assert rt.sandbox is not None
        ws = rt.resolve_workspace()
        store = rt.sandbox.store
        bot = rt.asana.me().gid  # read before taking the store's lock (the sandbox serves under it)
        with store.lock:  # a private project only Priya (and the service account) belongs to
            secret = store.add_project(
                ws,
                "Secret Roadmap",
                team=TEAM,
                owner=PRIYA_GID,
                members=[PRIYA_GID, bot],
                public=False,
            )
        backlog = rt.asana.find_project(ws, "Product Backlog").gid
        shown = _proposal(rt, "t-open", backlog, "Approve Sprint 24 backlog", "openai:gpt-4o-mini")
        _apply(rt, "t-open", shown, PRIYA)
        hidden = _proposal(rt, "t-secret", secret.gid, "Secret plan", "offline")
        for i in range(60):  # enough rows for a second audit page
            rt.audit.append(
                AuditRecord(actor="system:test", event="test.filler", outcome="ok", details={"i": i})
            )

        @contextmanager
        def factory() -> Iterator[Runtime]:
            yield rt

        with TestClient(create_api(settings, runtime_factory=factory)) as client:
            yield client, rt, {"shown": shown.id, "hidden": hidden.id}


def sign_in(client: TestClient, user: str) -> None:
    client.cookies.clear()
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text)
    assert csrf is not None
    r = client.post(
        "/login",
        data={"token": "tok", "user": user, "csrf": csrf.group(1), "next": "/history"},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


def test_history_shows_lifecycle_writes_and_engine(world: tuple[TestClient, Runtime, dict[str, str]]) -> None:
    client, _, ids = world
    sign_in(client, PRIYA)
    r = client.get("/history")
    assert r.status_code == 200, r.text
    runs = _tables(r.text)["runs"]
    assert ids["shown"] in runs and ids["hidden"] in runs  # Priya sees the private project
    row = re.search(rf'data-proposal-id="{ids["shown"]}">(.*?)</tr>', runs, re.S)
    assert row is not None
    cells = row.group(1)
    assert "Approve Sprint 24 backlog" in cells and "gpt-4o-mini" in cells
    assert re.search(r"created \d{4}-\d\d-\d\d", cells)
    assert f"decided by {PRIYA} (1 approve)" in cells
    assert re.search(r"applied \d{4}-\d\d-\d\d", cells)
    assert "post_comment 1200000000000999: done" in cells


def test_history_filters_by_agent_and_status(world: tuple[TestClient, Runtime, dict[str, str]]) -> None:
    client, _, ids = world
    sign_in(client, PRIYA)
    runs = _tables(client.get("/history", params={"status": "applied"}).text)["runs"]
    assert ids["shown"] in runs and ids["hidden"] not in runs
    page = client.get("/history", params={"agent": "standup"}).text
    assert "runs" not in _tables(page) and "No runs match these filters" in page
    assert '<label for="agent">' in page and '<label for="status">' in page


def test_a_private_project_is_left_out_of_history_and_audit(
    world: tuple[TestClient, Runtime, dict[str, str]],
) -> None:
    client, _, ids = world
    sign_in(client, RAVI)
    history = client.get("/history").text
    assert ids["shown"] in history and ids["hidden"] not in history and "Secret plan" not in history
    audit = client.get("/audit", params={"event": "proposal.created"}).text
    assert ids["shown"][:12] in audit and ids["hidden"][:12] not in audit
    assert client.get("/audit", params={"proposal": ids["hidden"][:8]}).text.count("data-audit-id") == 0


def test_audit_filters_and_pages_newest_first(world: tuple[TestClient, Runtime, dict[str, str]]) -> None:
    client, _, ids = world
    sign_in(client, PRIYA)
    first = client.get("/audit").text
    row_ids = [int(x) for x in re.findall(r'data-audit-id="(\d+)"', first)]
    assert len(row_ids) == 50 and row_ids == sorted(row_ids, reverse=True)
    assert 'rel="next" href="/audit?page=2' in first
    second = client.get("/audit", params={"page": 2}).text
    older = [int(x) for x in re.findall(r'data-audit-id="(\d+)"', second)]
    assert older and max(older) < min(row_ids)
    by_proposal = client.get("/audit", params={"proposal": ids["shown"][:10]}).text
    events = re.findall(r"<td>(proposal\.created|action\.begin|action\.applied)</td>", by_proposal)
    assert events == ["action.applied", "action.begin", "proposal.created"]
    by_actor = client.get("/audit", params={"actor": "system:apply"}).text
    assert "test.filler" not in by_actor and "action.applied" in by_actor


def test_verify_needs_csrf_and_reports_ok_then_tampering(
    world: tuple[TestClient, Runtime, dict[str, str]],
) -> None:
    client, rt, _ = world
    sign_in(client, PRIYA)
    assert client.post("/audit/verify", data={"csrf": "forged"}).status_code == 403
    token = csrf_of(client.get("/audit").text)
    r = client.post("/audit/verify", data={"csrf": token})
    assert r.status_code == 200, r.text
    verdict = re.search(r'<p data-testid="verify"[^>]*>(.*?)</p>', r.text)
    assert verdict is not None and re.fullmatch(r"OK \(\d+ rows\)", verdict.group(1))
    # As a DBA could: the append-only triggers dropped (SQLite, the embedded database), a row edited.
    with rt.engine.begin() as conn:
        triggers = conn.execute(
            text("SELECT name, sql FROM sqlite_master WHERE type='trigger' AND tbl_name='audit_log'")
        ).all()
        for name, _ in triggers:
            conn.execute(text(f"DROP TRIGGER {name}"))
        conn.execute(text("UPDATE audit_log SET outcome = 'forged' WHERE id = 3"))
        for _, sql in triggers:
            conn.execute(text(sql))
    r = client.post("/audit/verify", data={"csrf": token})
    verdict = re.search(r'<p data-testid="verify"[^>]*>(.*?)</p>', r.text)
    assert r.status_code == 409 and verdict is not None and "TAMPERED at row 3" in verdict.group(1)
