"""Fixtures for the sandbox's own tests: a tiny workspace, a running server, SDK + httpx clients,
and a local webhook receiver."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import asana
import httpx
import pytest
from urllib3.util.retry import Retry

from sandbox.server import SandboxServer
from sandbox.store import Store
from sandbox.webhooks import WebhookSettings

TOKEN = "tok-bot"
OTHER_TOKEN = "tok-outsider"


@dataclass
class Mini:
    store: Store
    token: str
    ws: str
    other_ws: str
    other_task: str
    project: str
    project2: str
    sections: dict[str, str]
    fields: dict[str, str]
    options: dict[str, str]
    users: dict[str, str]
    tag: str


def build_mini(n_tasks: int = 5) -> Mini:
    s = Store()
    ws = s.add_workspace("Acme Product").gid
    bot = s.add_user("sprintpilot", "bot@acme.test", workspaces=[ws]).gid
    ana = s.add_user("Ana Lima", "ana@acme.test", workspaces=[ws]).gid
    ben = s.add_user("Ben Ode", "ben@acme.test", workspaces=[ws]).gid
    s.add_token(TOKEN, bot)
    other_ws = s.add_workspace("Elsewhere Inc").gid
    outsider = s.add_user("Olga Out", "olga@else.test", workspaces=[other_ws]).gid
    s.add_token(OTHER_TOKEN, outsider)
    other_task = s.add_task(other_ws, "secret task").gid
    project = s.add_project(ws, "Product Backlog", owner=ana, created_at="2026-10-01T09:00:00.000Z")
    sections = {name: s.add_section(project.gid, name).gid for name in ("Backlog", "In Progress", "Done")}
    project2 = s.add_project(ws, "Sprint 23", owner=ana).gid
    s.add_section(project2, "To Do")
    fields = {
        "points": s.add_custom_field(ws, "Story Points", "number", precision=0).gid,
        "score": s.add_custom_field(ws, "AI Priority Score", "number", precision=1).gid,
        "priority": s.add_custom_field(ws, "Priority", "enum", enum_options=["High", "Low"]).gid,
        "status": s.add_custom_field(ws, "Status", "enum", enum_options=["Not Started", "Done"]).gid,
        "skills": s.add_custom_field(ws, "Skills", "multi_enum", enum_options=["ios", "api"]).gid,
        "sprint": s.add_custom_field(ws, "Sprint", "text").gid,
        "target": s.add_custom_field(ws, "Target", "date").gid,
        "reviewers": s.add_custom_field(ws, "Reviewers", "people").gid,
        "unused": s.add_custom_field(ws, "Unused", "text").gid,
    }
    for key, gid in fields.items():
        if key != "unused":
            s.add_field_setting(project.gid, gid)
    options = {
        "High": s.enum_option_gid(fields["priority"], "High"),
        "Low": s.enum_option_gid(fields["priority"], "Low"),
        "Done": s.enum_option_gid(fields["status"], "Done"),
        "ios": s.enum_option_gid(fields["skills"], "ios"),
        "api": s.enum_option_gid(fields["skills"], "api"),
    }
    tag = s.add_tag(ws, "backend").gid
    for i in range(n_tasks):
        s.add_task(
            ws,
            f"Task {i}",
            memberships=[(project.gid, sections["Backlog"])],
            created_at="2026-11-01T10:00:00.000Z",
            custom_fields={fields["points"]: 3},
        )
    return Mini(
        store=s,
        token=TOKEN,
        ws=ws,
        other_ws=other_ws,
        other_task=other_task,
        project=project.gid,
        project2=project2,
        sections=sections,
        fields=fields,
        options=options,
        users={"bot": bot, "ana": ana, "ben": ben, "outsider": outsider},
        tag=tag,
    )


FAST_HOOKS = WebhookSettings(
    allow_local_targets=True,  # the receiver below listens on 127.0.0.1
    delivery_timeout_s=2,
    handshake_timeout_s=5,
    retry_base_s=0.05,
    retry_max_s=0.2,
    batch_window_s=0.01,
)


@pytest.fixture
def mini() -> Mini:
    return build_mini()


@pytest.fixture
def server(mini: Mini) -> Iterator[SandboxServer]:
    with SandboxServer(mini.store, mini.token, webhook_settings=FAST_HOOKS) as srv:
        yield srv


def make_sdk(base_url: str, token: str, retries: int = 0) -> asana.ApiClient:
    cfg = asana.Configuration()
    cfg.host = base_url
    cfg.access_token = token
    cfg.retry_strategy = Retry(total=retries, backoff_factor=0, status_forcelist=[429, 500, 502, 503, 504])
    return asana.ApiClient(cfg)


@pytest.fixture
def sdk(server: SandboxServer) -> asana.ApiClient:
    return make_sdk(server.base_url, server.token)


@pytest.fixture
def http(server: SandboxServer) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=server.base_url, headers={"Authorization": f"Bearer {server.token}"}, timeout=10
    ) as client:
        yield client


def set_faults(server: SandboxServer, **values: Any) -> None:
    response = httpx.put(
        f"{server.root_url}/__sandbox/faults",
        json=values,
        headers={"Authorization": f"Bearer {server.token}"},
    )
    assert response.status_code == 200, response.text


@pytest.fixture
def faults(server: SandboxServer) -> Callable[..., None]:
    return lambda **values: set_faults(server, **values)


# ---- webhook receiver ------------------------------------------------------------------------
@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def events(self) -> list[dict[str, Any]]:
        return list(json.loads(self.body)["events"])


@dataclass
class Receiver:
    url: str = ""
    handshakes: list[str] = field(default_factory=list)
    deliveries: list[Received] = field(default_factory=list)
    echo_secret: bool = True
    statuses: list[int] = field(default_factory=list)  # consumed one per delivery; then 200
    delays: list[float] = field(default_factory=list)  # seconds to stall, one per delivery
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wait_for(self, predicate: Callable[[list[Received]], bool], timeout: float = 5.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                snapshot = list(self.deliveries)
            if predicate(snapshot):
                return snapshot
            time.sleep(0.02)
        raise AssertionError(f"condition not met; deliveries: {[d.body[:200] for d in self.deliveries]}")

    def events(self) -> list[dict[str, Any]]:
        with self.lock:
            return [e for d in self.deliveries for e in d.events]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:  # noqa: N802 - http.server naming
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            secret = self.headers.get("X-Hook-Secret")
            if secret is not None:
                state.handshakes.append(secret)
                self.send_response(200)
                if state.echo_secret:
                    self.send_header("X-Hook-Secret", secret)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            with state.lock:
                state.deliveries.append(Received(dict(self.headers.items()), body))
                status = state.statuses.pop(0) if state.statuses else 200
                delay = state.delays.pop(0) if state.delays else 0.0
            if delay:
                time.sleep(delay)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}/hook"
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
