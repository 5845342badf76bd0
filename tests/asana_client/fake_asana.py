"""A tiny scripted HTTP server speaking Asana's envelope, for client unit tests.

Tests register a handler `(Request) -> Reply`; every request is recorded so tests can assert on
what the SDK really sent (query, headers, JSON or multipart body).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

PREFIX = "/api/1.0"


@dataclass
class Request:
    method: str
    path: str  # without the /api/1.0 prefix
    query: dict[str, str]
    headers: dict[str, str]
    raw: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.raw or b"null")

    @property
    def opt_fields(self) -> list[str]:
        return self.query.get("opt_fields", "").split(",") if "opt_fields" in self.query else []


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


def ok(data: Any, **extra: Any) -> Reply:
    return Reply(200, {"data": data, **extra})


def error(status: int, message: str, **headers: str) -> Reply:
    return Reply(status, {"errors": [{"message": message, "help": "see docs"}]}, dict(headers))


Handler = Callable[[Request], Reply]


class FakeAsana:
    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.handler: Handler = lambda req: error(404, f"no route {req.method} {req.path}")
        self._lock = threading.Lock()
        self.in_flight = 0
        self.peak = 0
        fake = self

        class _H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                path = parts.path[len(PREFIX) :] if parts.path.startswith(PREFIX) else parts.path
                query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
                req = Request(self.command, path, query, {k: v for k, v in self.headers.items()}, raw)
                with fake._lock:
                    fake.requests.append(req)
                    fake.in_flight += 1
                    fake.peak = max(fake.peak, fake.in_flight)
                try:
                    reply = fake.handler(req)
                finally:
                    with fake._lock:
                        fake.in_flight -= 1
                payload = b"" if reply.body is None else json.dumps(reply.body).encode()
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                for k, v in reply.headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = _serve

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _H)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True)

    @property
    def base_url(self) -> str:
        port = self._server.server_address[1]
        return f"http://127.0.0.1:{port}{PREFIX}"

    def start(self) -> FakeAsana:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def script(self, *replies: Reply) -> None:
        """Answer the next requests with these replies in order (the last one repeats)."""
        queue = list(replies)

        def handler(req: Request) -> Reply:
            return queue.pop(0) if len(queue) > 1 else queue[0]

        self.handler = handler
