"""Run an ASGI app with uvicorn in a background thread (tests, the benchmark, embedding)."""

from __future__ import annotations

import threading
import time
from types import TracebackType
from typing import Any

import uvicorn

STARTUP_TIMEOUT_S = 20.0


class BackgroundServer:
    """`with BackgroundServer(app) as srv: srv.url` — serves on 127.0.0.1 and a free port."""

    def __init__(self, app: Any, *, host: str = "127.0.0.1", port: int = 0, **uvicorn_options: Any) -> None:
        options: dict[str, Any] = {
            "log_level": "warning",
            "access_log": False,
            "proxy_headers": False,  # X-Forwarded-For is read by api/clients.py from trusted proxies only
            **uvicorn_options,
        }
        self._server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, **options))
        self._thread = threading.Thread(target=self._server.run, name="api-server", daemon=True)
        self.host = host
        self.port = port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def __enter__(self) -> BackgroundServer:
        self._thread.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the API server did not start")
            time.sleep(0.01)
        sockets = [s for server in self._server.servers for s in server.sockets]
        self.port = int(sockets[0].getsockname()[1])
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
