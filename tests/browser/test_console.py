"""The web console in a real browser (issue 19): sign in, decide a planner proposal action by
action (approve, edit an assignee, reject with a reason), see it applied in the sandbox and in the
history, a second reviewer's stale page refused, permissions mirrored from Asana, dashboards.

Run: `.venv/bin/python -m pytest -q tests/browser` (headless Debian Chromium, see conftest.py);
`SPRINTPILOT_SCREENSHOTS=1` also rewrites docs/console/*.png.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import (
    ENGINEER_GIDS,
    PRIYA,
    RAVI,
    Console,
    screenshot,
    sign_in,
)

pytestmark = [pytest.mark.browser, pytest.mark.integration]

APPLIED = re.compile(r"\b(applied|partially[ _]applied)\b", re.IGNORECASE)
DASHBOARDS = ("sprint", "velocity", "capacity", "health", "accuracy", "noise")
DECIDE_TIMEOUT_MS = 120_000  # applying a whole sprint plan to the sandbox


def _first(console: Console, name: str, param: str) -> tuple[int, dict[str, Any]]:
    return next(
        (n, req)
        for n, req in console.numbered_actions()
        if req["name"] == name and param in (req["args"].get("params") or {})
    )


def test_decide_a_plan_in_the_browser(console: Console, new_page: Callable[[], Any]) -> None:
    page = new_page()
    sign_in(page, console.url, PRIYA)
    row = page.locator(f'tr[data-proposal-id="{console.proposal_id}"]')
    expect(row).to_have_count(1)
    expect(row).to_contain_text("planner")
    screenshot(page, "inbox")

    row.locator(f'a[href="/proposals/{console.proposal_id}"]').click()
    page.wait_for_url(f"**/proposals/{console.proposal_id}")
    for n, _ in console.numbered_actions():  # every action waiting for a decision has one
        expect(page.locator(f'tr[data-action="{n}"] select[name="decision-{n}"]')).to_have_count(1)

    # Another reviewer (a second sign-in, its own cookies) opens the same proposal meanwhile.
    stale = new_page()
    sign_in(stale, console.url, PRIYA)
    stale.goto(f"{console.url}/proposals/{console.proposal_id}")
    expect(stale.get_by_role("button", name="Submit decisions")).to_be_visible()

    # Edit one assignment to someone else, reject one custom-field change, approve the rest.
    edit_n, edit_req = _first(console, "update_task", "assignee")
    task_gid = edit_req["args"]["target"]
    proposed = edit_req["args"]["params"]["assignee"]
    new_assignee = next(gid for gid in ENGINEER_GIDS if gid != proposed)
    reject_n, _ = _first(console, "set_custom_field", "field")
    page.select_option(f'select[name="decision-{edit_n}"]', "edit")
    page.locator(f'tr[data-action="{edit_n}"] details.edit summary').click()  # "Edit parameters"
    page.fill(f'input[name="param-{edit_n}-assignee"]', new_assignee)
    page.select_option(f'select[name="decision-{reject_n}"]', "reject")
    page.fill(f'input[name="reason-{reject_n}"]', "not this sprint")
    page.locator(f'tr[data-action="{edit_n}"]').scroll_into_view_if_needed()
    screenshot(page, "proposal")

    page.get_by_role("button", name="Submit decisions").click()
    outcome = page.get_by_test_id("outcome")
    expect(outcome).to_be_visible(timeout=DECIDE_TIMEOUT_MS)
    expect(outcome).to_have_text(APPLIED)
    screenshot(page, "outcome")

    # Asana (the app's own sandbox) has the sprint, with the edited assignee on the task.
    with console.runtime() as rt:
        assert rt.sandbox is not None
        store = rt.sandbox.store
        with store.lock:
            assert any(p.name == "Sprint 24" for p in store.projects.values())
            assert store.tasks[task_gid].assignee == new_assignee
        record = rt.repo.get_proposal(console.proposal_id)
    assert record is not None and APPLIED.search(record.status.value), record.status
    assert any(d.type == "reject" and d.message == "not this sprint" for d in record.decisions)

    page.goto(f"{console.url}/history")
    run = page.locator(f'table[data-testid=runs] tr[data-proposal-id="{console.proposal_id}"]')
    expect(run).to_have_count(1)
    expect(run).to_contain_text("planner")
    expect(run).to_contain_text(APPLIED)
    screenshot(page, "history")

    # The stale page still offers the old decisions; submitting them is refused, with who decided.
    stale.get_by_role("button", name="Submit decisions").click()
    refused = stale.locator('p[role="alert"][data-testid="refused"]')
    expect(refused).to_contain_text("already decided by", timeout=DECIDE_TIMEOUT_MS)
    page.goto(f"{console.url}/inbox")
    expect(page.locator(f'tr[data-proposal-id="{console.proposal_id}"]')).to_have_count(0)
    expect(page.get_by_text("Nothing is waiting for approval.")).to_be_visible()


def test_a_user_who_cannot_see_the_backlog_sees_no_proposal(
    start_console: Callable[..., Console], new_page: Callable[[], Any]
) -> None:
    console = start_console(private_backlog=True)  # Product Backlog: Priya and the bot only

    ravi = new_page()
    sign_in(ravi, console.url, RAVI)
    expect(ravi.locator("tr[data-proposal-id]")).to_have_count(0)
    expect(ravi.get_by_text("Nothing is waiting for approval.")).to_be_visible()
    shown = ravi.goto(f"{console.url}/proposals/{console.proposal_id}")
    assert shown is not None and shown.status == 404
    expect(ravi.locator("tr[data-action]")).to_have_count(0)

    priya = new_page()  # a member of the project sees it
    sign_in(priya, console.url, PRIYA)
    expect(priya.locator(f'tr[data-proposal-id="{console.proposal_id}"]')).to_have_count(1)


def test_dashboards_audit_and_settings(console: Console, new_page: Callable[[], Any]) -> None:
    page = new_page()
    sign_in(page, console.url, PRIYA)

    # The seeded history ends with Sprint 23 (2026-11-09 → 11-20); the real date may be later,
    # when no sprint is active, so the burndown names its sprint.
    queries = {"sprint": "?project=Sprint%2023"}
    problems = []
    for name in DASHBOARDS:
        reply = page.goto(f"{console.url}/dashboards/{name}{queries.get(name, '')}")
        rows = page.locator("table[data-testid=data] tbody tr")
        if reply is None or reply.status != 200 or rows.count() == 0:
            status = reply.status if reply is not None else None
            problems.append(
                f"/dashboards/{name}: {status}, {rows.count()} rows: {page.inner_text('main')[:300]!r}"
            )
            continue
        screenshot(page, f"dashboard-{name}", full_page=True)
    assert not problems, "\n".join(problems)
    page.goto(f"{console.url}/dashboards/sprint?project=Sprint%2023")
    expect(page.locator("main")).to_contain_text("Sprint 23")
    days = page.locator("table[data-testid=data] tbody tr")
    expect(days).to_have_count(10)  # the sprint's working days, 2026-11-09 → 11-20
    expect(days.first).to_contain_text("2026-11-09")
    expect(days.last).to_contain_text("2026-11-20")
    page.goto(f"{console.url}/dashboards/velocity")
    expect(page.locator("table[data-testid=data] tbody")).to_contain_text("Sprint 23")

    page.goto(f"{console.url}/audit")
    expect(page.locator("table[data-testid=audit] tbody tr").first).to_be_visible()
    page.get_by_role("button", name=re.compile(r"^Verify\b.*\bchain$")).click()  # "Verify (the hash) chain"
    expect(page.get_by_test_id("verify")).to_have_text(re.compile(r"^OK\b"))
    screenshot(page, "audit")

    page.goto(f"{console.url}/settings")
    expect(page.locator("table[data-testid=policy] tbody tr").first).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/login"))
    page.goto(f"{console.url}/inbox")
    page.wait_for_url(re.compile(r"/login"))
    expect(page.locator("input[name=token]")).to_be_visible()
