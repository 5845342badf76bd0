"""Who an MCP request acts for, the runtime it uses, and how often it may call.

The MCP session is an Asana user: on stdio the one `sprintpilot mcp` was started for (`--user`, else
the configured token's own user); on HTTP the user whose Asana access token the request carries
(verified with Asana by service/mcp/http.py). Either way the identity is resolved by the shared
directory (`Runtime.person`), and every read goes through `Runtime.context(viewer=...)`, so a
project the user cannot see answers exactly like a missing one.

Per-session rate limit: the API's fixed-window counter (service/api/clients.py `FailureLimiter`),
here counting every tool call of a session key (the transport and the user).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from mcp.server.mcpserver.exceptions import ToolError

from service.api.clients import FailureLimiter
from tools.errors import UserError

if TYPE_CHECKING:
    from graphs.context import RunContext
    from graphs.visibility import Person
    from service.runtime import Runtime
    from service.settings import Settings

RuntimeFactory = Callable[[], AbstractContextManager["Runtime"]]
RATE_WINDOW_S = 60.0


class McpRefused(ToolError):
    """A call refused before any work (not signed in, unknown user, over the rate limit)."""


@dataclass
class McpHost:
    """What every handler needs: the runtime, the current request's Asana user, the limits."""

    settings: Settings
    runtime: RuntimeFactory
    # The current request's user (an Asana email or gid); raises McpRefused when there is none.
    user_ref: Callable[[], str]
    surface: str  # "stdio" or "http": part of the rate-limit key and of audit details
    limiter: FailureLimiter = field(init=False)

    def __post_init__(self) -> None:
        # audit_per_window=0: these counts are not security failures, nothing is audited from them.
        self.limiter = FailureLimiter(
            audit_per_window=0, block_after=self.settings.mcp_calls_per_minute, window_s=RATE_WINDOW_S
        )

    def person(self, rt: Runtime) -> Person:
        try:
            return rt.person(self.user_ref())
        except UserError as err:
            raise McpRefused(str(err)) from None

    def charge(self, person: Person) -> None:
        """Count one call of this session; refused once it is past the per-minute limit."""
        key = f"{self.surface}:{person.gid}"
        wait = self.limiter.blocked(key)
        if wait is not None:
            raise McpRefused(
                f"rate limit: at most {self.settings.mcp_calls_per_minute} calls per minute per "
                f"session; retry in {int(wait)} s"
            )
        self.limiter.record(key)

    def decider(self, person: Person) -> str:
        """How a decision over MCP is recorded (graphs/approvers.py surfaces)."""
        return f"mcp:{person.email or person.gid}"

    @contextmanager
    def call(self) -> Iterator[tuple[Runtime, Person, RunContext]]:
        """One tool call: the runtime, the caller (counted against the rate limit) and a run
        context whose reads are limited to what the caller can see."""
        with self.runtime() as rt:
            person = self.person(rt)
            self.charge(person)
            yield rt, person, self.context(rt, person)

    def context(self, rt: Runtime, person: Person, approver_gid: str | None = None) -> RunContext:
        return rt.context(actor=f"mcp:{person.label}", approver_gid=approver_gid, viewer=rt.viewer(person))
