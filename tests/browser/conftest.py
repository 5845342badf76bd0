"""Browser tests of the web console: the real app (`create_api`: API + console) over a fresh data
dir (embedded sandbox, SQLite, offline model) served by uvicorn on a free loopback port, a planner
proposal waiting at the gate, and Debian's headless Chromium driven by Playwright.

Playwright never downloads a browser here (`playwright install` is not used): it launches
/usr/bin/chromium, which `.ci/run` installs from Debian's `chromium` package. Without it the
tests skip locally and fail under CI=true, like the integration tests do for missing services.
Set SPRINTPILOT_SCREENSHOTS=1 to (re)write the screenshots in docs/console/.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from graphs.gate import action_numbers, action_requests_of
from graphs.runner import start_run
from service.api import create_api
from service.api.server import BackgroundServer
from service.console import dashboards
from service.runtime import Runtime, open_runtime
from service.settings import Settings, load_settings

CHROMIUM = Path(os.environ.get("SPRINTPILOT_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "console"
TOKEN = "tok"
# Asana users of the seeded sandbox: the scrum master (the one approver) and an engineer.
PRIYA = "priya.brooks@acme.example"
PRIYA_GID = "1200000000000002"
RAVI = "ravi.rossi@acme.example"
# The team's engineers (Sofia ... Ravi): assignees an approver may pick instead of the proposed one.
ENGINEER_GIDS = [f"12000000000000{n:02d}" for n in range(3, 11)]
BACKLOG = "Product Backlog"
VIEWPORT = {"width": 1280, "height": 860}


def _missing(what: str) -> None:
    msg = f"{what}; install Debian's chromium and chromium-driver (see .ci/run)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(msg)
    pytest.skip(msg)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium per module (Playwright's event loop ends with it, before other tests
    run); each test opens its own contexts (cookie jars)."""
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        _missing(f"{CHROMIUM} is not installed")
    from playwright.sync_api import Error, sync_playwright

    with sync_playwright() as pw:
        try:
            chromium = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        except Error as err:
            _missing(f"{CHROMIUM} does not start ({str(err).splitlines()[0]})")
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class Console:
    """The served app, its settings, and the planner proposal waiting for approval."""

    url: str
    app: FastAPI
    settings: Settings
    proposal_id: str
    request: dict[str, Any]

    def runtime(self) -> AbstractContextManager[Runtime]:
        """The app's own shared runtime (the same embedded sandbox the console writes to)."""
        factory = self.app.state.api.runtime_factory
        return factory()  # type: ignore[no-any-return]

    def numbered_actions(self) -> list[tuple[int, dict[str, Any]]]:
        """(number the console shows, action request) for each action of the proposal."""
        return list(zip(action_numbers(self.request), action_requests_of(self.request), strict=True))


def _make_private(rt: Runtime, project_name: str) -> None:
    """Asana's `privacy_setting="private"`: only the members see the project: the scrum master,
    and the service account (it must see the backlog to plan it)."""
    assert rt.sandbox is not None
    store = rt.sandbox.store
    bot = rt.asana.me().gid  # before taking the store's lock: the sandbox answers under it
    with store.lock:
        project = next(p for p in store.projects.values() if p.name == project_name)
        project.privacy_setting = "private"
        project.public = False
        project.members = [PRIYA_GID, bot]


def _plan(settings: Settings, *, private_backlog: bool) -> dict[str, Any]:
    """A planner run on the backlog, stopped at the gate (as tests/api/test_approvals_api.py)."""
    with open_runtime(settings) as rt:  # also migrates the database; the sandbox is saved on exit
        if private_backlog:
            _make_private(rt, BACKLOG)
        ws = rt.allowed_workspaces()[0]
        ctx = rt.context(actor="agent:planner", approver_gid=rt.approver_for(ws, BACKLOG))
        outcome = start_run(
            rt.graph, ctx, uuid.uuid4().hex, {"agent": "planner", "args": {"project": BACKLOG}}
        )
    assert outcome.status == "awaiting_approval" and outcome.interrupt is not None, outcome
    return outcome.interrupt


@pytest.fixture
def start_console(tmp_path: Path, offline_env: None) -> Iterator[Callable[..., Console]]:
    """`start_console(private_backlog=False)`: plan, then serve the app over that data dir."""
    with ExitStack() as stack:
        started = 0

        def start(*, private_backlog: bool = False) -> Console:
            nonlocal started
            started += 1
            settings = load_settings(
                data_dir=tmp_path / f"data{started}",
                asana_base_url=None,
                model="offline",
                api_token=TOKEN,
                approvers=[PRIYA],
            )
            request = _plan(settings, private_backlog=private_backlog)
            dashboards.CACHE.clear()  # computed dashboards are cached per process for 60 s
            app = create_api(settings)
            server = stack.enter_context(BackgroundServer(app))
            return Console(server.url, app, settings, str(request["proposal_id"]), request)

        yield start


@pytest.fixture
def console(start_console: Callable[..., Console]) -> Console:
    return start_console()


@pytest.fixture
def new_page(browser: Any) -> Iterator[Callable[[], Any]]:
    """`new_page()`: a page in a fresh browser context (its own cookies: another sign-in)."""
    contexts: list[Any] = []

    def make() -> Any:
        context = browser.new_context(viewport=VIEWPORT)
        context.set_default_timeout(30_000)
        contexts.append(context)
        return context.new_page()

    try:
        yield make
    finally:
        for context in contexts:
            context.close()


def sign_in(page: Any, base_url: str, user: str, *, token: str = TOKEN) -> None:
    """Sign in through the form at /login and land on the inbox."""
    page.goto(f"{base_url}/login")
    page.fill("input[name=token]", token)
    page.fill("input[name=user]", user)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/inbox(\?.*)?$"))


def screenshot(page: Any, name: str, *, full_page: bool = False) -> None:
    """docs/console/<name>.png, only when SPRINTPILOT_SCREENSHOTS=1 (CI leaves the tree alone)."""
    if os.environ.get("SPRINTPILOT_SCREENSHOTS") != "1":
        return
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page, animations="disabled")
