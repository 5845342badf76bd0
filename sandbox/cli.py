"""`sprintpilot sandbox`: serve the Asana sandbox until Ctrl-C.

The lead mounts `run_sandbox` as a typer command; `python -m sandbox.cli` runs it standalone.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import socket
import tempfile
import threading
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from sandbox.faults import FaultConfig
from sandbox.premium import PLANS, set_plan
from sandbox.quotas import QuotaConfig
from sandbox.server import SandboxServer
from sandbox.store import Store
from tools.paths import writable_dir_problem


class StateFileError(ValueError):
    """The --state file cannot be used; the message says why, and the file is left as it is."""


def build_store(seed: int, state: Path | None) -> tuple[Store, str]:
    """The store (from `state` when that file exists, else generated from `seed`) and its token."""
    if state is not None and state.is_dir():
        raise StateFileError(f"--state {state} is a directory; give the path of a JSON file")
    if state is not None and state.exists():
        store = load_state(state)
        token = store.meta.get("default_token") or next(iter(store.tokens), None)
        if token is None:
            raise StateFileError(f"--state {state} holds no API token; it is left untouched")
        return store, str(token)
    from sandbox.generator import generate_workspace  # lazy: generation is only needed here

    generated = generate_workspace(seed)
    generated.store.meta.setdefault("default_token", generated.token)
    return generated.store, generated.token


def load_state(state: Path) -> Store:
    """A saved state, or StateFileError (one line) when the file is not one."""
    try:
        return Store.load(state)
    except UnicodeDecodeError:
        reason = "not UTF-8 text"
    except json.JSONDecodeError as err:
        reason = f"not JSON: {err.msg} (line {err.lineno}, column {err.colno})"
    except KeyError as err:
        reason = f"no {err} in it"
    except (ValueError, TypeError, AttributeError) as err:
        reason = str(err)
    except OSError as err:
        raise StateFileError(f"cannot read --state {state}: {err.strerror or err}") from None
    raise StateFileError(
        f"--state {state} is not a saved sandbox state ({reason}); it is left untouched: "
        "move it away or pick another --state"
    )


def port_problem(host: str, port: int) -> str | None:
    """Why the sandbox cannot listen on `host:port` (the one-line answer), or None (0: any port).

    Checked before the server starts: uvicorn's own bind failure logs and exits its thread."""
    if not 0 <= port <= 65535:  # bind() raises OverflowError, not OSError, past the range
        return f"--port must be a TCP port from 0 to 65535, got {port}"
    if port == 0:
        return None
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            sock.bind((host, port))
        except OSError as err:
            if err.errno == errno.EADDRINUSE:
                return f"port {port} on {host} is in use; pick another with --port"
            return f"cannot listen on port {port} on {host} ({err.strerror or err}); pick another with --port"
    return None


def _echo_people(store: Store, service_token: str) -> None:
    """The seeded people and their own tokens: acting as a person (the console, `/mcp/`, chat
    `--user`) needs one, and the sandbox is the only place a new user could learn them."""
    people = []
    for token, gid in store.tokens.items():
        user = store.users.get(gid)
        if token != service_token and user is not None:
            people.append((user.email or gid, token))
    if people:
        typer.echo("People:        (email, their own token)")
        for email, token in sorted(people):
            typer.echo(f"  {email:<34} {token}")


def _fail(message: str) -> NoReturn:
    """One line on stderr and exit 1, never a traceback (the main CLI's errors look the same)."""
    typer.echo(f"error: {' '.join(message.split())}", err=True)
    raise typer.Exit(1)


def _check_state_folder(state: Path) -> None:
    """Up front: the --state file's folder must be one we may create files in (never /etc or
    /proc); one line on stderr and exit 2 otherwise."""
    problem = writable_dir_problem(state.parent)
    if problem is not None:
        typer.echo(f"error: --state {state}: its folder {problem}", err=True)
        raise typer.Exit(2)


def _prepare_state_file(state: Path, store: Store) -> None:
    """Make sure the state can be saved at shutdown: create its folder now and, for a new file,
    write the initial state at once (a path that cannot be written fails here, not at exit)."""
    try:
        state.parent.mkdir(parents=True, exist_ok=True)
        if not state.exists():
            store.save(state)
    except OSError as err:
        _fail(f"cannot write --state {state}: {err.strerror or err}")


def _save_state(state: Path, store: Store) -> None:
    """Save at shutdown; if the file cannot be written, keep the data in a temp file instead."""
    try:
        store.save(state)
    except OSError as err:
        fd, name = tempfile.mkstemp(prefix="sandbox-state-", suffix=".json")
        os.close(fd)
        fallback = Path(name)
        store.save(fallback)
        _fail(f"cannot write --state {state} ({err.strerror or err}); the state was saved to {fallback}")
    typer.echo(f"State saved to {state}")


def run_sandbox(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0 = any free port).")] = 8787,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic workspace.")] = 7,
    state: Annotated[
        Path | None,
        typer.Option(
            help="JSON state file: loaded if present (refused if it is not one), else created with its "
            "folder; saved on exit."
        ),
    ] = None,
    faults: Annotated[
        str | None, typer.Option(help='Faults, e.g. "429=0.1,5xx=0.05,latency=50,dup=0.1,drop=0.1".')
    ] = None,
    quota: Annotated[str | None, typer.Option(help='Asana-like rate limits: "free" or "paid".')] = None,
    plan: Annotated[
        str | None,
        typer.Option(help='Workspace plan: "free" answers 402 on premium-only features; "paid" (default).'),
    ] = None,
    allow_local_webhooks: Annotated[
        bool,
        typer.Option(
            help="Accept http and localhost/private webhook targets (Asana requires https on a public host)."
        ),
    ] = False,
    oauth_client_id: Annotated[
        str | None,
        typer.Option(help="Register an OAuth app with this client id (see /-/oauth_authorize)."),
    ] = None,
    oauth_client_secret: Annotated[
        str | None, typer.Option(help="Its client secret (default: generated and printed).")
    ] = None,
    oauth_redirect_uri: Annotated[
        list[str] | None,
        typer.Option(help="Its redirect URL (repeatable; loopback URLs match on any port)."),
    ] = None,
) -> None:
    """Serve a local, faithful Asana REST + webhooks emulator."""
    try:
        fault_config = FaultConfig.parse(faults)
        quota_config = QuotaConfig.plan(quota)
        if plan is not None and plan not in PLANS:
            raise ValueError(f"--plan must be one of {', '.join(PLANS)}")
    except ValueError as err:
        raise typer.BadParameter(str(err)) from None
    if state is not None:
        _check_state_folder(state)
    problem = port_problem("127.0.0.1", port)
    if problem is not None:
        _fail(problem)
    try:
        store, token = build_store(seed, state)
    except StateFileError as err:
        _fail(str(err))
    if plan is not None:
        set_plan(store, plan)
    if oauth_client_id is not None:
        if not oauth_redirect_uri:
            _fail("--oauth-client-id needs at least one --oauth-redirect-uri")
        app = store.oauth.register_app(
            oauth_redirect_uri, client_id=oauth_client_id, client_secret=oauth_client_secret
        )
        typer.echo(f"OAuth app:     client id {app.client_id}, secret {app.client_secret}")
    if state is not None:
        _prepare_state_file(state, store)
    server = SandboxServer(
        store,
        token,
        port=port,
        faults=fault_config,
        quotas=quota_config,
        allow_local_webhooks=allow_local_webhooks,
    )
    stop = threading.Event()
    try:
        server.start()
    except RuntimeError:
        _fail(f"the sandbox could not start on 127.0.0.1:{port}; pick another with --port")
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    typer.echo(f"Asana sandbox: {server.base_url}")
    typer.echo(f"Token:         {token}")
    _echo_people(store, token)
    typer.echo("Press Ctrl-C to stop.")
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        signal.signal(signal.SIGTERM, previous)
        if state is not None:
            _save_state(state, store)


def main() -> None:
    typer.run(run_sandbox)


if __name__ == "__main__":
    main()
