"""`sprintpilot sandbox`: serve the Asana sandbox until Ctrl-C.

The lead mounts `run_sandbox` as a typer command; `python -m sandbox.cli` runs it standalone.
"""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Annotated

import typer

from sandbox.faults import FaultConfig
from sandbox.quotas import QuotaConfig
from sandbox.server import SandboxServer
from sandbox.store import Store


def build_store(seed: int, state: Path | None) -> tuple[Store, str]:
    """The store (from `state` when that file exists, else generated from `seed`) and its token."""
    if state is not None and state.exists():
        store = Store.load(state)
        token = store.meta.get("default_token") or next(iter(store.tokens), None)
        if token is None:
            raise typer.BadParameter(f"{state} holds no API token", param_hint="--state")
        return store, str(token)
    from sandbox.generator import generate_workspace  # lazy: generation is only needed here

    generated = generate_workspace(seed)
    generated.store.meta.setdefault("default_token", generated.token)
    return generated.store, generated.token


def run_sandbox(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0 = any free port).")] = 8787,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic workspace.")] = 7,
    state: Annotated[
        Path | None, typer.Option(help="JSON state file: loaded if present, saved on exit.")
    ] = None,
    faults: Annotated[
        str | None, typer.Option(help='Faults, e.g. "429=0.1,5xx=0.05,latency=50,dup=0.1,drop=0.1".')
    ] = None,
    quota: Annotated[str | None, typer.Option(help='Asana-like rate limits: "free" or "paid".')] = None,
) -> None:
    """Serve a local, faithful Asana REST + webhooks emulator."""
    try:
        fault_config = FaultConfig.parse(faults)
        quota_config = QuotaConfig.plan(quota)
    except ValueError as err:
        raise typer.BadParameter(str(err)) from None
    store, token = build_store(seed, state)
    server = SandboxServer(store, token, port=port, faults=fault_config, quotas=quota_config)
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    server.start()
    typer.echo(f"Asana sandbox: {server.base_url}")
    typer.echo(f"Token:         {token}")
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
            store.save(state)
            typer.echo(f"State saved to {state}")


def main() -> None:
    typer.run(run_sandbox)


if __name__ == "__main__":
    main()
