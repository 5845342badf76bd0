"""A local webhook receiver: echoes X-Hook-Secret on the handshake, records signed deliveries."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Delivery:
    raw: bytes
    signature: str | None


class Receiver:
    def __init__(self) -> None:
        self.handshake_secrets: list[str] = []
        self.deliveries: list[Delivery] = []
        self._cond = threading.Condition()
        receiver = self

        class _H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server naming
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                secret = self.headers.get("X-Hook-Secret")
                # Recorded before answering: the caller may check the moment the answer arrives
                # (recorded after, a loaded machine showed no handshake yet).
                with receiver._cond:
                    if secret:
                        receiver.handshake_secrets.append(secret)
                    else:
                        receiver.deliveries.append(Delivery(raw, self.headers.get("X-Hook-Signature")))
                    receiver._cond.notify_all()
                self.send_response(200)
                if secret:
                    self.send_header("X-Hook-Secret", secret)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _H)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/hooks/asana"

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def wait_for(self, predicate: Any, timeout: float = 5.0) -> list[Delivery]:
        """Deliveries so far, once `predicate(deliveries)` holds (or fail after `timeout`)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate(self.deliveries):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no matching webhook delivery within {timeout}s: {self.deliveries}")
                self._cond.wait(left)
            return list(self.deliveries)
