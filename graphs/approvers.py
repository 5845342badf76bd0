"""Who may decide a proposal outside Asana's own approval task.

Deciders arrive prefixed by their surface (`chat:priya@example.com`, `api:1200…`, `cli:ops`).
Approvers are Asana identities (emails or gids, SPRINTPILOT_APPROVERS): a decider is allowed when
the Asana user they name (resolved through `people`, so an email and a gid of the same person
match) is one of them. With no approvers configured nobody may decide on a chat, API, console or
MCP surface: the proposal's Asana approval task, decided by its assignee, is the way; only the
operator's own terminal (`cli:`, which holds the service's credentials and database anyway) may
still decide there. Deciders from Asana (`asana:`) and the system's own sweeps are checked where
they arise (service/approvals.py), never accepted from a surface.

`Approvers.anyone()` is the library default for graphs built without a policy (tests, examples).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from graphs.visibility import Person

NONE_CONFIGURED = (
    "nobody may approve here: no approvers are configured; approve on the proposal's Asana "
    "approval task, or set SPRINTPILOT_APPROVERS to the Asana emails or gids of the people who may"
)
# The operator's terminal (and in-process callers, which name no surface): it holds the service's
# token and database, so it is trusted when no approver list narrows who decides.
OPERATOR_SURFACES = frozenset({"cli", ""})
CHAT_SURFACES = frozenset({"chat", "chatui"})
# Deciders that never come from a surface: Asana's approval task (its decider is checked against
# the approvers where the task is read, service/approvals.py) and the system's own sweeps.
SERVER_DECIDERS = frozenset({"asana", "system"})


def bare_identity(who: str) -> str:
    _, sep, rest = who.partition(":")
    return (rest if sep else who).strip().casefold()


def surface_of(who: str) -> str:
    surface, sep, _ = who.partition(":")
    return surface.strip().casefold() if sep else ""


def from_chat(who: str) -> str:
    """A chat graph's decider: a chat surface, or a server decider resuming it (an Asana approval
    task, a sweep); anything else is a chat UI's user, so an answer cannot pass itself off as the
    operator's terminal. (Whoever can call the Agent Server can resume any of its threads: it
    must sit behind its own authentication, see README "Security".)"""
    surface = surface_of(who)
    return who if surface in CHAT_SURFACES or surface in SERVER_DECIDERS else f"chatui:{who}"


@dataclass(frozen=True)
class Approvers:
    # None: unrestricted (library default); empty: nobody configured.
    names: frozenset[str] | None = None
    # Resolves a bare identity (email or gid) to the Asana user it names, when one exists.
    people: Callable[[str], Person | None] | None = None

    @classmethod
    def anyone(cls) -> Approvers:
        return cls(None)

    @classmethod
    def only(cls, names: Iterable[str], people: Callable[[str], Person | None] | None = None) -> Approvers:
        return cls(frozenset(n.strip().casefold() for n in names if n.strip()), people)

    @property
    def restricted(self) -> bool:
        return self.names is not None

    def _person(self, ref: str) -> Person | None:
        return self.people(ref) if self.people is not None else None

    def allows(self, who: str | None) -> bool:
        if self.names is None:
            return True
        if not who:
            return False
        if not self.names:
            return surface_of(who) in OPERATOR_SURFACES
        bare = bare_identity(who)
        if bare in self.names:
            return True
        person = self._person(bare)
        if person is None:
            return False
        return any(person.known_as(name) for name in self.names)

    def refusal(self, who: str | None) -> str | None:
        """Why `who` may not decide, or None when they may (server deciders were checked where
        they arose)."""
        if self.allows(who) or (who is not None and surface_of(who) in SERVER_DECIDERS):
            return None
        if self.names is not None and not self.names:
            return NONE_CONFIGURED
        name = bare_identity(who) if who else "an anonymous user"
        return f"{name} may not approve or reject proposals (approvers: {self.describe()})"

    def describe(self) -> str:
        if self.names is None:
            return "anyone using this chat"
        return ", ".join(sorted(self.names)) or "nobody (none configured)"
