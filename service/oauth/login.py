"""The CLI's authorization code flow with PKCE (`sprintpilot auth login`).

The code comes back either to a one-shot loopback listener (RFC 8252: `http://127.0.0.1:<port>/
callback`, register that exact URL in the Asana app) or as the redirect URL / code the user
pastes (`--paste`: for a machine without a browser, with the app's registered redirect URL).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from pydantic import BaseModel

from tools.errors import UserError

DEFAULT_PORT = 8976
CALLBACK_PATH = "/callback"
LOGIN_TIMEOUT_S = 300.0


class Callback(BaseModel):
    """What came back on the redirect: a code (and state), or Asana's error."""

    code: str | None = None
    state: str | None = None
    error: str | None = None
    error_description: str | None = None

    def code_for(self, expected_state: str) -> str:
        """The code, once the answer is checked: no error, and our own state (CSRF)."""
        if self.error:
            detail = f": {self.error_description}" if self.error_description else ""
            raise UserError(f"Asana did not authorize sprintpilot ({self.error}{detail})")
        if self.state is not None and self.state != expected_state:
            raise UserError("the authorization answer is for another login (state mismatch); log in again")
        if not self.code:
            raise UserError("no authorization code in the answer; paste the whole redirect URL")
        return self.code


def parse_callback(text: str) -> Callback:
    """A pasted redirect URL (or just its query), or the bare code."""
    text = text.strip()
    if not text:
        raise UserError("nothing pasted; paste the URL your browser was sent to after Allow")
    if "=" not in text:
        return Callback(code=text)
    query = urlsplit(text).query if "://" in text or text.startswith("/") else text.lstrip("?")
    values = {k: v[0] for k, v in parse_qs(query).items() if v}
    return Callback.model_validate({k: values.get(k) for k in Callback.model_fields})


def loopback_redirect(port: int) -> str:
    return f"http://127.0.0.1:{port}{CALLBACK_PATH}"


class LoopbackReceiver:
    """A one-shot HTTP listener on 127.0.0.1 that takes the redirect and answers a short page."""

    def __init__(self, port: int) -> None:
        received: list[Callback] = []
        done = threading.Event()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's API
                parts = urlsplit(self.path)
                if parts.path != CALLBACK_PATH:
                    self.send_error(404)
                    return
                received.append(parse_callback("?" + parts.query) if parts.query else Callback())
                done.set()
                body = b"sprintpilot: authorization received, you can close this window."
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass  # the query holds the code: never log it

        try:
            self._server = HTTPServer(("127.0.0.1", port), Handler)
        except OSError as err:
            raise UserError(
                f"cannot listen on 127.0.0.1:{port} ({err.strerror or err}); pick another with --port "
                "(and register that redirect URL) or use --paste"
            ) from None
        self.port = int(self._server.server_address[1])
        self._received = received
        self._done = done
        self._thread = threading.Thread(target=self._serve, daemon=True, name="oauth-loopback")

    def _serve(self) -> None:
        while not self._done.is_set():
            self._server.handle_request()

    @property
    def redirect_uri(self) -> str:
        return loopback_redirect(self.port)

    def __enter__(self) -> LoopbackReceiver:
        self._server.timeout = 0.2
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join(timeout=2)
        self._server.server_close()

    def wait(self, timeout: float = LOGIN_TIMEOUT_S) -> Callback:
        if not self._done.wait(timeout):
            raise UserError(
                f"no answer from the browser within {int(timeout)} s; run `sprintpilot auth login` again"
            )
        return self._received[0]


def open_browser(url: str) -> bool:
    """Best effort; the URL is printed either way."""
    import webbrowser

    try:
        return webbrowser.open(url)
    except Exception:  # noqa: BLE001 - no browser is fine
        return False


Opener = Callable[[str], bool]
