"""`sprintpilot mcp`: the MCP server on stdio, as the configured token's user or `--user`.

stdout carries the protocol only; everything else (logs, errors) goes to stderr.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import anyio

from service.mcp.server import build_server
from service.mcp.session import McpHost
from service.runtime import Runtime, open_runtime
from service.settings import Settings


def serve_stdio(settings: Settings, user: str | None) -> None:
    with open_runtime(settings) as rt:
        # The session's identity: the named Asana user, else the token's own (the service
        # account); an unknown name stops here with the directory's one-line error.
        ref = user or rt.asana.me().gid
        person = rt.person(ref)
        # stderr: stdout is the protocol. Says whose permissions the assistant gets.
        how = "--user" if user else "the configured token's own user; pass --user EMAIL to act as a person"
        print(f"sprintpilot MCP on stdio as {person.label} ({how})", file=sys.stderr, flush=True)

        @contextmanager
        def runtime() -> Iterator[Runtime]:
            try:
                yield rt
            finally:
                rt.persist()  # the embedded sandbox's writes survive for the next command

        host = McpHost(settings, runtime, lambda: person.gid, "stdio")
        server = build_server(host, rt.registry)
        anyio.run(server.run_stdio_async)
