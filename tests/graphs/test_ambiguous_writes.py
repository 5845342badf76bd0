"""Exactly once when the answer to a write is lost (issue 15, reproduction 4).

A proxy in front of the sandbox forwards a POST to Asana and then answers 504, as a load balancer
that timed out waiting would. The client must not re-send the POST (it may have been done); the
run stops with the ledger entry pending, and resuming probes Asana, finds the object by its
marker and records it instead of creating a second one. Counted at the sandbox.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from langgraph.checkpoint.memory import InMemorySaver

from agents.proposal import Action, ActionKind, Proposal, Scope
from graphs.context import RunContext
from graphs.registry import Specialist, SpecialistRegistry
from graphs.runner import recover_run, resume_run, start_run
from graphs.supervisor import build_supervisor_graph
from sandbox.server import SandboxServer
from tests.graphs.conftest import FakeArgs
from tests.graphs.fakes import MemoryAudit, MemoryJournal
from tests.graphs.test_sandbox_http import TOKEN, _stats, http_context, sandbox  # noqa: F401 - fixture
from tools.asana.client import AsanaClient
from tools.asana.errors import ServerError
from tools.asana.retry import RetryPolicy

pytestmark = pytest.mark.integration


class LossyProxy:
    """Forwards every request; for the first POST (or `methods`) whose path ends with one of
    `lose`, forwards it and then answers 504 instead of Asana's answer."""

    def __init__(self, upstream: str, lose: tuple[str, ...], methods: tuple[str, ...] = ("POST",)) -> None:
        self.upstream = upstream
        self.methods = methods
        self.pending = list(lose)
        self.lost: list[str] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {
                    k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")
                }
                reply = httpx.request(
                    self.command, proxy.upstream + self.path, content=body, headers=headers, timeout=30
                )
                path = self.path.split("?")[0]
                hit = next((p for p in proxy.pending if path.endswith(p)), None)
                if self.command in proxy.methods and hit is not None:
                    proxy.pending.remove(hit)
                    proxy.lost.append(path)
                    payload = b'{"errors": [{"message": "upstream timed out"}]}'
                    self.send_response(504)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                self.send_response(reply.status_code)
                for k, v in reply.headers.items():
                    if k.lower() not in (
                        "content-length",
                        "transfer-encoding",
                        "connection",
                        "content-encoding",
                    ):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(reply.content)))
                self.end_headers()
                self.wfile.write(reply.content)

            do_GET = do_POST = do_PUT = do_DELETE = _forward  # noqa: N815

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> LossyProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def lossy(
    sandbox: tuple[SandboxServer, dict[str, str]],  # noqa: F811 - the imported fixture
) -> Iterator[tuple[LossyProxy, SandboxServer, dict[str, str]]]:
    server, g = sandbox
    with LossyProxy(server.root_url, ("/projects", "/stories")) as proxy:
        yield proxy, server, g


def test_a_lost_answer_to_a_create_never_creates_twice(
    lossy: tuple[LossyProxy, SandboxServer, dict[str, str]],
) -> None:
    proxy, server, g = lossy

    def plan(args: dict[str, Any], ctx: RunContext) -> Proposal:
        return Proposal(
            agent="http_planner",
            scope=Scope(workspace_gid=g["ws"], project_gids=[g["project"]]),
            title="Sprint 24 plan",
            summary_markdown="One task.",
            actions=[
                Action(
                    kind=ActionKind.CREATE_PROJECT,
                    params={"name": "Sprint 24", "workspace_gid": g["ws"]},
                    ref="sprint",
                ),
                Action(kind=ActionKind.ADD_TO_PROJECT, target=g["t1"], params={"project": "ref:sprint"}),
            ],
        )

    registry = SpecialistRegistry([Specialist("http_planner", "test planner", plan, FakeArgs)])
    graph = build_supervisor_graph(registry).compile(checkpointer=InMemorySaver())
    audit = MemoryAudit()
    journal = MemoryJournal(audit)
    thread_id = uuid.uuid4().hex
    # Fast waits: the retry policy is the production one, only without real sleeping.
    policy = RetryPolicy(sleep=lambda s: None)
    with AsanaClient(f"{proxy.url}/api/1.0", TOKEN, retry=policy) as client:
        ctx = http_context(client, registry, g, journal)
        # Publish posts the approval comment: its answer is lost, the run stops (not retried).
        with pytest.raises(ServerError):
            start_run(graph, ctx, thread_id, {"agent": "http_planner"})
        assert proxy.lost == ["/api/1.0/tasks/" + proxy.lost[0].split("/")[4] + "/stories"]
        assert _stats(server)["mutating"]["POST /tasks/{task_gid}/stories"] == 1

        waiting = recover_run(graph, ctx, thread_id)  # probe finds the comment by its marker
        assert waiting.status == "awaiting_approval"
        assert _stats(server)["mutating"]["POST /tasks/{task_gid}/stories"] == 1

        # Approving creates the project: that answer is lost too.
        with pytest.raises(ServerError):
            resume_run(graph, ctx, thread_id, [{"type": "approve"}] * 2, "ana")
        assert _stats(server)["mutating"]["POST /projects"] == 1

        done = recover_run(graph, ctx, thread_id)
        assert done.report is not None and done.report["status"] == "applied", done.report
        stats = _stats(server)["mutating"]
        assert stats["POST /projects"] == 1  # created once, found by the probe
        assert stats.get("POST /tasks/{task_gid}/addProject") == 1
        projects = [p for p in client.projects(g["ws"]) if p.name == "Sprint 24"]
        assert len(projects) == 1
        recovered = [e for e in journal.entries.values() if (e.result or {}).get("recovered")]
        assert {e.kind for e in recovered} == {"create_project", "post_comment"}
