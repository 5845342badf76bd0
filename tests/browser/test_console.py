"""The web console in a real browser (issue 19): sign in, decide a planner proposal action by
action (approve, edit an assignee, reject with a reason), see it applied in the sandbox and in the
history, a second reviewer's stale page refused, permissions mirrored from Asana, dashboards.

Run: `.venv/bin/python -m pytest -q tests/browser` (headless Debian Chromium, see conftest.py);
`SPRINTPILOT_SCREENSHOTS=1` also rewrites docs/console/*.png.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
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


def _change_scope_mid_sprint(console: Console) -> list[str]:
    """Add a backlog task to Sprint 23 and take one out, on its Wednesday (the seed plans every
    task at the start, so it has no scope change). Returns the two tasks' names."""
    with console.runtime() as rt:
        assert rt.sandbox is not None
        ws = rt.resolve_workspace()
        sprint = rt.asana.find_project(ws, "Sprint 23").gid
        in_sprint = rt.asana.project_tasks(sprint)
        gids = {t.gid for t in in_sprint}
        backlog = rt.asana.project_tasks(rt.asana.find_project(ws, "Product Backlog").gid)
        added = next(t for t in backlog if not t.completed and t.gid not in gids and t.number("Story Points"))
        removed = next(t for t in in_sprint if not t.completed and t.number("Story Points"))
        rt.sandbox.store.set_clock(lambda: datetime(2026, 11, 18, 15, 0, tzinfo=UTC))
        try:
            rt.asana.add_task_to_project(added.gid, sprint)
            rt.asana.remove_task_from_project(removed.gid, sprint)
        finally:
            rt.sandbox.store.set_clock(None)
    return [added.name or added.gid, removed.name or removed.gid]


def test_dashboards_audit_and_settings(console: Console, new_page: Callable[[], Any]) -> None:
    changed = _change_scope_mid_sprint(console)
    page = new_page()
    sign_in(page, console.url, PRIYA)

    # The seeded history ends with Sprint 23 (2026-11-09 → 11-20); the real date may be later,
    # when no sprint is active: the burndown then shows the last finished sprint.
    problems = []
    for name in DASHBOARDS:
        reply = page.goto(f"{console.url}/dashboards/{name}")
        rows = page.locator("table[data-testid=data] tbody tr")
        empty = page.locator("table[data-testid=data] tbody td[colspan]")  # "No data."
        if reply is None or reply.status != 200 or rows.count() == 0 or empty.count():
            status = reply.status if reply is not None else None
            problems.append(
                f"/dashboards/{name}: {status}, {rows.count()} rows: {page.inner_text('main')[:300]!r}"
            )
            continue
        screenshot(page, f"dashboard-{name}", full_page=True)
    assert not problems, "\n".join(problems)
    page.goto(f"{console.url}/dashboards/sprint")
    expect(page.locator("h1")).to_contain_text("Sprint 23")
    changes = page.locator("table[data-testid=scope-changes] tbody tr")
    expect(changes).to_have_count(2)
    for name, kind in zip(changed, ("added", "removed"), strict=True):
        expect(changes.filter(has_text=name)).to_contain_text(kind)
    picker = page.get_by_test_id("picker")
    expect(picker.locator("option:checked")).to_have_text(re.compile(r"^Sprint 23 \("))
    picker.select_option(label="Sprint 22 (finished)")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("h1")).to_contain_text("Sprint 22")
    page.goto(f"{console.url}/dashboards/sprint?project=Sprint%2023")
    days = page.locator("table[data-testid=data] tbody tr")
    expect(days).to_have_count(10)  # the sprint's working days, 2026-11-09 → 11-20
    expect(days.first).to_contain_text("2026-11-09")
    expect(days.last).to_contain_text("2026-11-20")
    page.goto(f"{console.url}/dashboards/velocity")
    expect(page.locator("table[data-testid=data] tbody")).to_contain_text("Sprint 23")
    page.goto(f"{console.url}/dashboards/accuracy")
    expect(page.get_by_test_id("source")).to_have_attribute("data-source", "backtest")

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


PHONE = {"width": 390, "height": 844}  # an iPhone 12-15's CSS viewport


def _no_sideways_scroll(page: Any) -> None:
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"{page.url}: the page is {width[0]} px wide in a {width[1]} px viewport"


def _fits_its_scroller(locator: Any) -> None:
    """Nothing of it is hidden off to the side of its scrolling box (a wide table's own scroll)."""
    sizes = locator.evaluate(
        "el => { const box = el.closest('.table-scroll') || document.documentElement;"
        " return [box.scrollWidth, box.clientWidth, box.scrollLeft]; }"
    )
    assert sizes[0] <= sizes[1] and sizes[2] == 0, (locator, sizes)


def _in_viewport_width(page: Any, locator: Any) -> None:
    box = locator.bounding_box()
    assert box is not None, locator
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], (locator, box)


def test_phone_layout_inbox_and_proposal(console: Console, browser: Any) -> None:
    """At 390x844 neither page scrolls sideways, and every decision control (the decision, its
    reason, the parameters, the submit buttons) is on screen without sideways scrolling."""
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    context.set_default_timeout(30_000)
    try:
        page = context.new_page()
        sign_in(page, console.url, PRIYA)
        expect(page.locator(f'tr[data-proposal-id="{console.proposal_id}"]')).to_have_count(1)
        _no_sideways_scroll(page)
        link = page.locator(f'a[href="/proposals/{console.proposal_id}"]')
        _in_viewport_width(page, link)
        screenshot(page, "phone-inbox")

        link.click()
        page.wait_for_url(f"**/proposals/{console.proposal_id}")
        _no_sideways_scroll(page)
        n, req = _first(console, "update_task", "assignee")
        row = page.locator(f'tr[data-action="{n}"]')
        decision = row.locator(f'select[name="decision-{n}"]')
        decision.scroll_into_view_if_needed()
        _fits_its_scroller(decision)
        _in_viewport_width(page, decision)
        _in_viewport_width(page, row.locator(f'input[name="reason-{n}"]'))
        decision.select_option("edit")
        row.locator("details.edit summary").click()
        assignee = row.locator(f'input[name="param-{n}-assignee"]')
        expect(assignee).to_have_value(req["args"]["params"]["assignee"])
        _in_viewport_width(page, assignee)
        _fits_its_scroller(assignee)
        _no_sideways_scroll(page)
        screenshot(page, "phone-proposal")
        for name in ("Submit decisions", "Approve all"):
            button = page.get_by_role("button", name=name)
            button.scroll_into_view_if_needed()
            expect(button).to_be_in_viewport()
            _in_viewport_width(page, button)
    finally:
        context.close()
