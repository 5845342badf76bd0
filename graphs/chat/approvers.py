"""Who may answer an approval request from the chat.

Identities arrive prefixed by their surface (`chat:alice`, `cli:bob`, `asana:1200…`); the allowlist
names people without the prefix, compared case-insensitively. `Approvers.anyone()` is for
deployments that configure no list: whoever can reach the chat surface may approve.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


def bare_identity(who: str) -> str:
    _, sep, rest = who.partition(":")
    return (rest if sep else who).strip().casefold()


@dataclass(frozen=True)
class Approvers:
    names: frozenset[str] | None = None  # None: unrestricted

    @classmethod
    def anyone(cls) -> Approvers:
        return cls(None)

    @classmethod
    def only(cls, names: Iterable[str]) -> Approvers:
        return cls(frozenset(n.strip().casefold() for n in names if n.strip()))

    @property
    def restricted(self) -> bool:
        return self.names is not None

    def allows(self, who: str | None) -> bool:
        if self.names is None:
            return True
        if not who:
            return False
        return who.strip().casefold() in self.names or bare_identity(who) in self.names

    def describe(self) -> str:
        if self.names is None:
            return "anyone using this chat"
        return ", ".join(sorted(self.names)) or "nobody"
