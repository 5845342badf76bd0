"""Run the sandbox app with uvicorn on 127.0.0.1 in a background thread (tests, demo, evals).

with SandboxServer(store, token) as server:
    cfg = asana.Configuration(); cfg.host = server.base_url; cfg.access_token = server.token
"""

from __future__ import annotations

import threading
import time
from types import TracebackType
from typing import Any

import uvicorn

from sandbox.app import create_app
from sandbox.context import API_PREFIX
from sandbox.faults import FaultConfig, FaultInjector
from sandbox.quotas import QuotaConfig
from sandbox.store import Store
from sandbox.webhooks import WebhookSettings


class SandboxServer:
    def __init__(
        self,
        store: Store,
        token: str | None = None,
        *,
        port: int = 0,
        host: str = "127.0.0.1",
        faults: FaultInjector | FaultConfig | str | None = None,
        quotas: QuotaConfig | str | None = None,
        webhook_settings: WebhookSettings | None = None,
        admin_token: str | None = None,
        allow_local_webhooks: bool = False,
    ) -> None:
        self.store = store
        if token is None:
            if not store.tokens:
                raise ValueError("the store has no token; call store.add_token(token, user_gid) first")
            token = next(iter(store.tokens))
        self.token = token
        self.host = host
        self._requested_port = port
        if allow_local_webhooks:  # http and 127.0.0.1 targets (test stacks, the local demo)
            base = webhook_settings or WebhookSettings()
            webhook_settings = base.model_copy(update={"allow_local_targets": True})
        self.app = create_app(
            store, faults, quotas=quotas, webhook_settings=webhook_settings, admin_token=admin_token
        )
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    @property
    def services(self) -> Any:
        return self.app.state.sandbox

    @property
    def root_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.root_url}{API_PREFIX}"

    def start(self) -> SandboxServer:
        if self._thread is not None:
            return self
        # uvicorn binds itself (port 0 = a free port, read back once started); handing it a
        # pre-bound socket instead loses TCP_NODELAY and costs ~40 ms per request.
        config = uvicorn.Config(
            self.app,
            host=self.host,
            port=self._requested_port,
            log_level="warning",
            access_log=False,
            lifespan="on",
            timeout_keep_alive=30,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True, name="sandbox-uvicorn")
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"sandbox server failed to start on {self.host}:{self._requested_port}")
            time.sleep(0.01)
        self.port = int(self._server.servers[0].sockets[0].getsockname()[1])
        return self

    def stop(self) -> None:
        if self._server is None or self._thread is None:
            return
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._server, self._thread = None, None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
