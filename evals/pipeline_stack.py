"""The whole event pipeline on one machine, for integration tests and the end-to-end benchmark.

`PipelineStack` starts, in this order: a private `redis-server` on a free port (the broker, which
tests may stop and restart without touching the machine's shared Redis), a fresh Postgres
database (migrated), the seeded sandbox Asana over HTTP, the FastAPI receiver with a webhook on
the backlog project, then a real Celery worker and beat as subprocesses. Everything is torn down
on exit; only processes started here are stopped (by their own pid).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import psycopg
from sqlalchemy import Engine, select

from graphs.runner import start_run
from sandbox.generator import GeneratedWorkspace, generate_workspace
from sandbox.server import SandboxServer
from service.api import create_api
from service.api.server import BackgroundServer
from service.db.engine import make_engine, read_session
from service.db.events import InboxEvent, OutboxMessage
from service.db.migrate import migrate
from service.db.worker import MessageDelivery
from service.events.subscriptions import register_webhook
from service.runtime import Runtime, open_runtime
from service.settings import Settings, load_settings
from tools.asana.client import AsanaClient

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(check: Callable[[], Any], timeout: float = 30.0, interval: float = 0.1, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what or getattr(check, '__name__', 'a condition')}")
        time.sleep(interval)


class PrivateRedis:
    """A throwaway redis-server (no persistence) that can be stopped and restarted on its port."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> PrivateRedis:
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--bind",
                "127.0.0.1",
                "--maxmemory-policy",
                "noeviction",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(self._up, 10, 0.05, "redis-server")
        return self

    def _up(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.proc = None


class PipelineStack:
    def __init__(
        self,
        *,
        pg_admin_url: str = "postgresql://postgres@127.0.0.1:5432/postgres",
        worker_env: Mapping[str, str] | None = None,
        celery_app: str = "service.worker.celery_app",
        extra_pythonpath: str | None = None,
        concurrency: int = 2,
        prepare: Callable[[PipelineStack], Mapping[str, str]] | None = None,
        quotas: str | None = None,
    ) -> None:
        """`prepare(stack)` runs before the worker starts; it may seed Asana and return extra env.
        `quotas`: the sandbox's per-token quota plan ("paid": Asana's 1,500 requests/minute)."""
        self.pg_admin_url = pg_admin_url
        self.worker_env = dict(worker_env or {})
        self.celery_app = celery_app
        self.extra_pythonpath = extra_pythonpath
        self.concurrency = concurrency
        self.prepare = prepare
        self.quotas = quotas
        self._stack = ExitStack()
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.logs: dict[str, Path] = {}

    # ---- lifecycle -------------------------------------------------------------------------
    def __enter__(self) -> PipelineStack:
        try:
            self._start()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _start(self) -> None:
        self.tmp = Path(self._stack.enter_context(tempfile.TemporaryDirectory(prefix="sp-pipeline-")))
        self.broker = PrivateRedis().start()
        # Late-bound: a test that restarts the broker replaces `self.broker`; stop that one.
        self._stack.callback(lambda: self.broker.stop())
        self.db_url = self._create_database()
        self.ws: GeneratedWorkspace = generate_workspace(seed=7)
        self.sandbox = SandboxServer(
            self.ws.store, self.ws.token, allow_local_webhooks=True, quotas=self.quotas
        ).start()
        self._stack.callback(self.sandbox.stop)
        self.settings: Settings = load_settings(
            data_dir=self.tmp / "data",
            database_url=self.db_url,
            redis_url=self.broker.url,
            asana_base_url=self.sandbox.base_url,
            asana_token=self.ws.token,
            model="offline",
        )
        migrate(self.settings)
        self.engine: Engine = make_engine(self.settings)
        self._stack.callback(self.engine.dispose)
        self.api = BackgroundServer(create_api(self.settings, engine=self.engine))
        self._stack.enter_context(self.api)
        self.asana = AsanaClient(self.sandbox.base_url, self.ws.token)
        self._stack.callback(self.asana.close)
        self.approver = AsanaClient(self.sandbox.base_url, self.ws.user_tokens[self.ws.scrum_master_gid])
        self._stack.callback(self.approver.close)
        self.subscription = register_webhook(
            self.asana,
            self.engine,
            resource_gid=self.ws.backlog_project_gid,
            receiver_url=self.api.url,
            workspace_gid=self.ws.workspace_gid,
        )
        self.runtime: Runtime = self._stack.enter_context(open_runtime(self.settings))
        if self.prepare is not None:
            self.worker_env.update(self.prepare(self))
        self.start_worker()
        self.start_beat()

    def __exit__(self, *exc: object) -> None:
        for name in list(self.processes):
            self.stop_process(name)
        self._stack.close()

    def _create_database(self) -> str:
        name = f"sp_pipe_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(self.pg_admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')

        def drop() -> None:
            with psycopg.connect(self.pg_admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

        self._stack.callback(drop)
        return f"{self.pg_admin_url.rsplit('/', 1)[0]}/{name}"

    # ---- subprocesses ----------------------------------------------------------------------
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SPRINTPILOT_")}
        env.update(
            SPRINTPILOT_DATABASE_URL=self.db_url,
            SPRINTPILOT_DATA_DIR=str(self.tmp / "data"),
            SPRINTPILOT_REDIS_URL=self.broker.url,
            SPRINTPILOT_ASANA_BASE_URL=self.sandbox.base_url,
            SPRINTPILOT_ASANA_TOKEN=self.ws.token,
            SPRINTPILOT_MODEL="offline",
            SPRINTPILOT_WORKER_RELAY_INTERVAL_S="0.5",
            SPRINTPILOT_WORKER_RECONCILE_INTERVAL_S="600",
            SPRINTPILOT_WORKER_SYNC_APPROVALS_INTERVAL_S="600",
            PYTHONUNBUFFERED="1",
        )
        paths = [str(REPO)] + ([self.extra_pythonpath] if self.extra_pythonpath else [])
        env["PYTHONPATH"] = os.pathsep.join(paths + [env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        env.update(self.worker_env)
        return env

    def _spawn(self, name: str, args: list[str]) -> None:
        log = self.tmp / f"{name}.log"
        self.logs[name] = log
        with log.open("ab") as out:
            self.processes[name] = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", self.celery_app, *args],
                cwd=REPO,
                env=self.env(),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def start_worker(self) -> None:
        self._spawn(
            "worker",
            [
                "worker",
                "--pool=prefork",
                f"--concurrency={self.concurrency}",
                "--loglevel=INFO",
                "--queues=sprintpilot.events,sprintpilot.maintenance",
                "--without-gossip",
                "--without-mingle",
                f"--hostname=test-{uuid.uuid4().hex[:6]}@%h",
            ],
        )

    def start_beat(self) -> None:
        self._spawn("beat", ["beat", "--loglevel=INFO", f"--schedule={self.tmp / 'beat-schedule'}"])

    def stop_process(self, name: str) -> None:
        proc = self.processes.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        # Our own process group (start_new_session): the worker and its prefork children.
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)

    def log(self, name: str) -> str:
        path = self.logs.get(name)
        return path.read_text(errors="replace") if path and path.exists() else ""

    # ---- observations ----------------------------------------------------------------------
    def mutations(self) -> Counter[str]:
        return Counter(self.sandbox.store.stats.snapshot()["mutating"])

    def faults(self, **config: Any) -> None:
        response = httpx.put(
            f"{self.sandbox.root_url}/__sandbox/faults",
            json=config,
            headers={"Authorization": f"Bearer {self.ws.token}"},
            timeout=10,
        )
        response.raise_for_status()

    def inbox_rows(self) -> list[InboxEvent]:
        with read_session(self.engine) as session:
            return list(session.scalars(select(InboxEvent).order_by(InboxEvent.id)))

    def outbox_rows(self) -> list[OutboxMessage]:
        with read_session(self.engine) as session:
            return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))

    def delivery(self, inbox_id: int) -> MessageDelivery | None:
        with read_session(self.engine) as session:
            return session.get(MessageDelivery, f"process_event:{inbox_id}")

    def set_approval(self, task_gid: str, status: str) -> None:
        """The scrum master answers the approval task in Asana (their own token)."""
        self.approver.update_task(task_gid, {"approval_status": status})

    def plan(self, project: str = "Product Backlog") -> dict[str, Any]:
        """Run the planner up to its approval gate; returns the pending approval request."""
        rt = self.runtime
        ws = rt.resolve_workspace()
        ctx = rt.context(actor="agent:planner", approver_gid=rt.approver_for(ws, project))
        outcome = start_run(
            rt.graph, ctx, uuid.uuid4().hex, {"agent": "planner", "args": {"project": project}}
        )
        if outcome.status != "awaiting_approval" or outcome.interrupt is None:
            raise RuntimeError(f"planner did not reach the gate: {outcome.report}")
        return outcome.interrupt

    def proposal_status(self, proposal_id: str) -> str:
        record = self.runtime.repo.get_proposal(proposal_id)
        return str(record.status) if record is not None else "missing"
