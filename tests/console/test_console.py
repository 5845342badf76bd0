"""The web console over the embedded sandbox, through FastAPI's TestClient (no browser)."""

from __future__ import annotations

import re

import pytest
from console_support import PRIYA, PRIYA_GID, RAVI, Console
from markupsafe import escape

from graphs.gate import action_numbers


def _actions_page(c: Console) -> str:
    page = c.client.get(f"/proposals/{c.proposal_id}")
    assert page.status_code == 200
    return page.text


def test_pages_need_a_session(console: Console) -> None:
    first = console.client.get("/inbox", follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"] == "/login?next=%2Finbox"
    assert console.client.get("/", follow_redirects=False).headers["location"] == "/inbox"
    decided = console.client.post(f"/proposals/{console.proposal_id}/decide", data={"all": "approve"})
    assert decided.status_code == 401


def test_sign_in_refuses_a_wrong_token_or_an_unknown_user(console: Console) -> None:
    wrong = console.sign_in(token="nope")
    assert wrong.status_code == 400 and "That API token is not valid." in wrong.text
    assert "sp_session" not in wrong.cookies
    stranger = console.sign_in(user="ravi")
    assert stranger.status_code == 400 and "&#39;ravi&#39; is not an Asana user" in stranger.text
    rows = console.rt.audit.rows(limit=50)
    assert sorted(r.reason or "" for r in rows if r.event == "console.login_failed") == [
        "invalid API token",
        "unknown Asana user",
    ]
    assert console.client.get("/inbox", follow_redirects=False).status_code == 303


def test_sign_in_goes_to_a_local_next_only(console: Console) -> None:
    ok = console.sign_in(next_path="https://evil.example/x")
    assert ok.status_code == 303 and ok.headers["location"] == "/inbox"
    cookie = ok.headers["set-cookie"]
    assert "sp_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Max-Age=28800" in cookie and PRIYA not in cookie  # encrypted, not readable


def test_posts_need_the_csrf_token(console: Console) -> None:
    form = console.client.get("/login")
    no_csrf = console.client.post("/login", data={"token": "tok", "user": PRIYA})
    assert no_csrf.status_code == 403
    assert console.csrf(form)
    console.sign_in()
    refused = console.client.post(
        f"/proposals/{console.proposal_id}/decide", data={"all": "approve", "digest": console.plan["digest"]}
    )
    assert refused.status_code == 403 and "did not come from this console" in refused.text
    assert console.client.post("/logout", data={"csrf": "forged"}).status_code == 403


def test_inbox_lists_the_plan(console: Console) -> None:
    console.sign_in()
    page = console.client.get("/inbox")
    assert page.status_code == 200
    assert f'<tr data-proposal-id="{console.proposal_id}"' in page.text
    assert f'href="/proposals/{console.proposal_id}"' in page.text
    assert "Product Backlog" in page.text and "planner" in page.text
    assert str(page.headers["content-security-policy"]).startswith("default-src 'self'")


def test_proposal_page_shows_numbered_actions(console: Console) -> None:
    console.sign_in()
    text = _actions_page(console)
    numbers = action_numbers(console.plan)
    for n in numbers:
        assert f'<tr data-action="{n}"' in text
        assert f'name="decision-{n}"' in text and f'name="reason-{n}"' in text
    assert f'name="digest" value="{console.plan["digest"]}"' in text
    assert re.search(r'name="param-\d+-[\w]+"', text)
    assert "Approve all" in text and "Submit decisions" in text and "<details" in text


def test_approve_all_applies_then_a_second_decision_conflicts(console: Console) -> None:
    console.sign_in()
    page = console.client.get(f"/proposals/{console.proposal_id}")
    data = {"csrf": console.csrf(page), "digest": console.plan["digest"], "all": "approve"}
    done = console.client.post(f"/proposals/{console.proposal_id}/decide", data=data)
    assert done.status_code == 200, done.text
    assert '<p data-testid="outcome">applied</p>' in done.text
    ws = console.rt.resolve_workspace()
    assert any((p.name or "").startswith("Sprint 24") for p in console.rt.asana.projects(ws))
    again = console.client.post(f"/proposals/{console.proposal_id}/decide", data=data)
    assert again.status_code == 409
    assert 'data-testid="refused"' in again.text and f"already decided by console:{PRIYA}" in again.text
    assert f'data-proposal-id="{console.proposal_id}"' not in console.client.get("/inbox").text


def test_a_non_approver_is_refused(console: Console) -> None:
    console.sign_in(RAVI)
    page = console.client.get(f"/proposals/{console.proposal_id}")
    data = {"csrf": console.csrf(page), "digest": console.plan["digest"], "all": "approve"}
    refused = console.client.post(f"/proposals/{console.proposal_id}/decide", data=data)
    assert refused.status_code == 403 and "may not approve or reject proposals" in refused.text


def test_a_person_who_cannot_see_the_project_sees_nothing(console: Console) -> None:
    rt = console.rt
    assert rt.sandbox is not None
    store = rt.sandbox.store
    bot = rt.asana.me().gid  # before taking the lock: the sandbox's server needs it to answer
    with store.lock:
        project = next(p for p in store.projects.values() if p.name == "Product Backlog")
        project.privacy_setting = "private"
        project.owner = PRIYA_GID
        project.members = [PRIYA_GID, bot]
    rt.directory.forget()
    console.sign_in(RAVI)
    inbox = console.client.get("/inbox")
    assert console.proposal_id not in inbox.text and "Nothing is waiting for approval." in inbox.text
    hidden = console.client.get(f"/proposals/{console.proposal_id}")
    missing = console.client.get("/proposals/0123456789abcdef")
    assert hidden.status_code == missing.status_code == 404
    assert "Product Backlog" not in hidden.text


def test_reject_one_action_with_a_reason(console: Console) -> None:
    console.sign_in()
    page = console.client.get(f"/proposals/{console.proposal_id}")
    first = action_numbers(console.plan)[0]
    data = {
        "csrf": console.csrf(page),
        "digest": console.plan["digest"],
        f"decision-{first}": "reject",
        f"reason-{first}": "not this one",
    }
    done = console.client.post(f"/proposals/{console.proposal_id}/decide", data=data)
    assert done.status_code == 200, done.text
    decisions = console.rt.repo.get_proposal(console.proposal_id).decisions  # type: ignore[union-attr]
    assert [d.message for d in decisions if d.type == "reject"] == ["not this one"]


def test_settings_show_the_policy(console: Console) -> None:
    console.sign_in()
    page = console.client.get("/settings")
    assert page.status_code == 200
    assert '<table data-testid="policy">' in page.text and "create_project" in page.text
    assert "offline" in page.text and PRIYA in page.text and "tok" not in page.text.split("<main")[1]


def test_logout_clears_the_session(console: Console) -> None:
    console.sign_in()
    page = console.client.get("/inbox")
    out = console.client.post("/logout", data={"csrf": console.csrf(page)}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/login"
    assert console.client.get("/inbox", follow_redirects=False).status_code == 303


def test_an_edit_sends_the_changed_params(console: Console) -> None:
    console.sign_in()
    page = console.client.get(f"/proposals/{console.proposal_id}")
    numbered = zip(action_numbers(console.plan), console.plan["action_requests"], strict=True)
    n, req = next((n, r) for n, r in numbered if r["name"] == "create_project")
    data = {
        "csrf": console.csrf(page),
        "digest": console.plan["digest"],
        f"decision-{n}": "edit",
        f"param-{n}-name": "Sprint 24 (edited)",
    }
    done = console.client.post(f"/proposals/{console.proposal_id}/decide", data=data)
    assert done.status_code == 200, done.text
    assert req["args"]["params"]["name"] != "Sprint 24 (edited)"
    ws = console.rt.resolve_workspace()
    assert "Sprint 24 (edited)" in {p.name for p in console.rt.asana.projects(ws)}


def test_the_inbox_pages_many_proposals_without_reading_their_threads(
    console: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    """500 pending proposals used to mean 500 checkpoint reads per view (3.5 s); the list is read
    from the proposals table, 50 to a page, newest first."""
    import service.approvals
    from agents.proposal import Proposal, Scope

    backlog = console.rt.asana.find_project(console.rt.resolve_workspace(), "Product Backlog").gid
    for n in range(54):
        proposal = Proposal(
            agent="triage",
            scope=Scope(workspace_gid=console.rt.resolve_workspace(), project_gids=[backlog]),
            title=f"Refine item {n:02d}",
            summary_markdown="s",
        )
        console.rt.repo.save_proposal(f"t-many-{n}", proposal, "pending")

    def no_threads(*_: object, **__: object) -> None:
        raise AssertionError("the inbox list must not read checkpoints")

    monkeypatch.setattr(service.approvals, "pending_interrupt", no_threads)
    console.sign_in()
    first = console.client.get("/inbox")
    assert first.status_code == 200
    assert first.text.count("data-proposal-id=") == 50 and "page 1 of 2" in first.text
    assert "Refine item 53" in first.text and 'rel="next"' in first.text
    second = console.client.get("/inbox", params={"page": 2})
    assert second.text.count("data-proposal-id=") == 5  # 4 more triage items and the plan


def test_the_proposal_page_reads_names_in_a_few_requests(console: Console) -> None:
    """A 71-action sprint plan cost 24 Asana reads per view (one per target task); names now come
    from one listing of the scope project and people from the Directory."""
    console.sign_in()
    rt = console.rt
    before = rt.asana.calls.snapshot()
    page = console.client.get(f"/proposals/{console.proposal_id}")
    after = rt.asana.calls.snapshot()
    assert page.status_code == 200
    spent = {k: v - before.by_method.get(k, 0) for k, v in after.by_method.items()}
    assert after.total - before.total <= 8, spent
    assert spent.get("GET /tasks/{gid}", 0) == 0, spent
    n, req = next((n, r) for n, r in enumerate(console.plan["action_requests"]) if r["name"] == "update_task")
    task = rt.asana.task(req["args"]["target"])
    assignee = rt.person(req["args"]["params"]["assignee"])
    row = page.text.split(f'<tr data-action="{action_numbers(console.plan)[n]}"')[1].split("</tr>")[0]
    assert task.name and str(escape(task.name)) in row
    assert assignee.name and str(escape(f"assignee: {assignee.name}")) in row
