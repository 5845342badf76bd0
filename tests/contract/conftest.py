"""Contract suite fixtures: the same tests drive the real SDK (through our client) against the
local sandbox over HTTP, or against real Asana when ASANA_TOKEN and ASANA_WORKSPACE are set.

Tests create their own projects/tasks/fields through the client and clean up after themselves
(best effort), so they can run against a live workspace. Behaviours that can only be triggered
in the sandbox (fault injection, localhost webhook targets) skip on real Asana with the reason.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pytest

from tools.asana import AsanaClient, AsanaError, RetryPolicy
from tools.asana.models import CustomField, Project, Task

NO_FAULTS = {
    "rate_429": 0.0,
    "rate_5xx": 0.0,
    "latency_ms": 0,
    "webhook_dup": 0.0,
    "webhook_drop": 0.0,
    "status_5xx": 503,
    "retry_after_s": 1,
    "methods": [],
}
RUN = uuid.uuid4().hex[:8]  # makes names unique when several runs share a real workspace


@dataclass
class Target:
    kind: str  # "sandbox" | "asana"
    base_url: str
    token: str
    workspace_gid: str
    server: Any = None  # sandbox.server.SandboxServer when kind == "sandbox"
    team_gid: str | None = None

    @property
    def is_sandbox(self) -> bool:
        return self.kind == "sandbox"

    def new_client(self, **kw: Any) -> AsanaClient:
        return AsanaClient(self.base_url, self.token, **kw)

    def require_sandbox(self, why: str) -> None:
        if not self.is_sandbox:
            pytest.skip(f"needs the sandbox: {why}")

    # ---- sandbox admin (fault injection, stats, heartbeats) ---------------------------------
    @property
    def admin_url(self) -> str:
        return self.base_url.removesuffix("/api/1.0") + "/__sandbox"

    def admin(self, method: str, path: str, payload: Any = None) -> Any:
        import httpx

        self.require_sandbox("admin endpoints")
        headers = {"Authorization": f"Bearer {self.token}"}
        response = httpx.request(method, f"{self.admin_url}{path}", json=payload, headers=headers, timeout=10)
        response.raise_for_status()
        body = response.json() if response.content else None
        return body.get("data", body) if isinstance(body, dict) else body

    def clear_faults(self) -> None:
        self.admin("PUT", "/faults", NO_FAULTS)


@pytest.fixture(scope="session")
def target() -> Iterator[Target]:
    token, workspace = os.environ.get("ASANA_TOKEN"), os.environ.get("ASANA_WORKSPACE")
    if token and workspace:
        base = os.environ.get("ASANA_BASE_URL", "https://app.asana.com/api/1.0")
        yield Target("asana", base, token, workspace, team_gid=os.environ.get("ASANA_TEAM"))
        return
    server_mod = pytest.importorskip("sandbox.server", reason="sandbox server not available")
    generator = pytest.importorskip("sandbox.generator")
    generated = generator.generate_workspace(seed=7)
    with server_mod.SandboxServer(
        generated.store, token=generated.token, allow_local_webhooks=True
    ) as server:
        server.generated = generated  # lets sandbox-only tests check the generated contract
        yield Target(
            "sandbox",
            server.base_url,
            server.token,
            generated.workspace_gid,
            server=server,
            team_gid=generated.team_gid,
        )


@pytest.fixture
def client(target: Target) -> Iterator[AsanaClient]:
    with target.new_client() as c:
        yield c


class FakeSleep:
    """Records waits and advances a fake clock, so fault tests never really wait."""

    def __init__(self) -> None:
        self.now = 0.0
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


@pytest.fixture
def fast_client(target: Target) -> Iterator[tuple[AsanaClient, FakeSleep]]:
    sleep = FakeSleep()
    with target.new_client(retry=RetryPolicy(sleep=sleep, clock=sleep.clock), breaker=False) as c:
        yield c, sleep


@dataclass
class Scratch:
    """Objects a test creates; all deleted at teardown (errors there are ignored)."""

    client: AsanaClient
    target: Target
    cleanups: list[Callable[[], None]] = field(default_factory=list)
    task_gids: list[str] = field(default_factory=list)

    def _team(self) -> str | None:
        if self.target.team_gid is None:
            teams = self.client.teams(self.target.workspace_gid)
            self.target.team_gid = teams[0].gid if teams else None
        return self.target.team_gid

    def project(self, label: str = "project", **kw: Any) -> Project:
        project = self.client.create_project(
            self.target.workspace_gid,
            f"sprintpilot-contract {label} {RUN}-{uuid.uuid4().hex[:6]}",
            team_gid=self._team(),
            **kw,
        )
        self.cleanups.append(lambda: self.client.delete_project(project.gid))
        return project

    def task(self, project: Project | None = None, **kw: Any) -> Task:
        kw.setdefault("name", f"contract task {uuid.uuid4().hex[:6]}")
        if project is not None:
            kw.setdefault("projects", [project.gid])
        else:
            kw.setdefault("workspace_gid", self.target.workspace_gid)
        task = self.client.create_task(**kw)
        self.task_gids.append(task.gid)
        return task

    def close(self) -> None:
        def quietly(undo: Callable[[], None]) -> None:
            with contextlib.suppress(AsanaError):
                undo()

        # Tasks first (in parallel: some tests make hundreds), then projects and the rest.
        with ThreadPoolExecutor(8) as pool:
            list(
                pool.map(lambda gid: quietly(lambda: self.client.delete_task(gid)), reversed(self.task_gids))
            )
        for undo in reversed(self.cleanups):
            quietly(undo)


@pytest.fixture
def scratch(client: AsanaClient, target: Target) -> Iterator[Scratch]:
    s = Scratch(client, target)
    yield s
    s.close()


FIELD_SPECS: dict[str, dict[str, Any]] = {
    "number": {"precision": 1},
    "text": {},
    "enum": {"enum_options": ["Alpha", "Beta", "Gamma"]},
    "multi_enum": {"enum_options": ["red", "green", "blue"]},
    "date": {},
    "people": {},
    "other_enum": {"enum_options": ["Alpha", "Omega"]},  # same option name, different field
}


@pytest.fixture(scope="session")
def contract_fields(target: Target) -> Iterator[dict[str, CustomField]]:
    """One workspace custom field per type, created for this run and deleted afterwards."""
    created: dict[str, CustomField] = {}
    with target.new_client() as c:
        try:
            for key, spec in FIELD_SPECS.items():
                subtype = "enum" if key == "other_enum" else key
                created[key] = c.create_custom_field(
                    target.workspace_gid,
                    f"contract {key} {RUN}",
                    subtype,
                    enum_options=spec.get("enum_options", ()),
                    precision=spec.get("precision"),
                )
        except AsanaError as err:
            pytest.skip(f"cannot create custom fields in this workspace: {err}")
        yield created
        if not target.is_sandbox:
            for cf in created.values():
                with contextlib.suppress(AsanaError):
                    c.delete_custom_field(cf.gid)
