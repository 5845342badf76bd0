"""Asana identities of the people using sprintpilot, and what each of them can see.

Every human acting through chat, the HTTP API, the console or MCP names an Asana user (gid or
email); `Directory.person` resolves it against the workspace's users, so a free-text name is
refused rather than trusted. `Directory.viewer` gives a run the projects that person can see,
computed through the service account from each project's privacy, team and members
(graphs/visibility.py), or, when the person signed in with OAuth, through their own token: what
Asana lists for them is what they see. Both are cached for `ttl_s` and dropped early when a
membership or privacy event arrives (`forget`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from graphs.visibility import Person, Viewer, sees_project, visible_projects
from tools.asana.errors import Forbidden, NotFound
from tools.errors import UserError

DEFAULT_TTL_S = 60.0

# Event resources/fields that change who sees a project (webhook and events API payloads).
_MEMBERSHIP_RESOURCES = frozenset({"project_membership", "team_membership", "membership", "team"})
_ACCESS_FIELDS = frozenset({"members", "privacy_setting", "public", "team", "owner"})


# Bumped by `note_events` (the webhook receiver) when who-sees-what may have changed; every
# Directory of the process drops its cache when it sees a new value.
_generation = 0
_generation_lock = threading.Lock()


def changes_access(event: dict[str, Any]) -> bool:
    """Whether an Asana event may change who sees a project (membership, privacy, team, new project)."""
    resource = event.get("resource") or {}
    change = event.get("change") or {}
    kind = resource.get("resource_type") if isinstance(resource, dict) else None
    changed = change.get("field") if isinstance(change, dict) else None
    return kind in _MEMBERSHIP_RESOURCES or (
        kind == "project" and (changed is None or changed in _ACCESS_FIELDS)
    )


def note_events(events: list[dict[str, Any]]) -> None:
    """Called as events arrive: cached visibility in this process is dropped when one matters."""
    global _generation
    if any(changes_access(e) for e in events):
        with _generation_lock:
            _generation += 1


class UnknownPerson(UserError):
    """The identity given is not a user of the workspace."""


@dataclass
class _Entry:
    value: Any
    at: float


@dataclass
class Directory:
    """Process-lived, thread-safe cache of people and their visible projects."""

    asana: Any  # the service account's client (AsanaClient)
    ttl_s: float = DEFAULT_TTL_S
    clock: Callable[[], float] = time.monotonic
    # user gid → their own read client (OAuth), when they signed in; None: service account rules.
    own_client: Callable[[str], Any | None] = lambda _gid: None
    _cache: dict[tuple[str, ...], _Entry] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _seen_generation: int = field(default=0, repr=False)

    def _cached(self, key: tuple[str, ...], load: Callable[[], Any]) -> Any:
        now = self.clock()
        with self._lock:
            if self._seen_generation != _generation:
                self._cache.clear()
                self._seen_generation = _generation
            entry = self._cache.get(key)
            if entry is not None and now - entry.at < self.ttl_s:
                return entry.value
        value = load()
        with self._lock:
            self._cache[key] = _Entry(value, now)
        return value

    def forget(self) -> None:
        """Drop everything cached (a membership or privacy change arrived)."""
        with self._lock:
            self._cache.clear()

    # --- people ---------------------------------------------------------------------------------

    def people(self, workspace_gid: str) -> list[Person]:
        def load() -> list[Person]:
            return [Person(gid=u.gid, name=u.name, email=u.email) for u in self.asana.users(workspace_gid)]

        found: list[Person] = self._cached(("people", workspace_gid), load)
        return found

    def find(self, workspace_gid: str, ref: str) -> Person | None:
        """The workspace user with this gid or email (case-insensitive), else None."""
        wanted = ref.strip()
        if not wanted:
            return None
        return next((p for p in self.people(workspace_gid) if p.known_as(wanted)), None)

    def person(self, workspace_gid: str, ref: str) -> Person:
        """Like `find`, but an unknown identity is a one-line UserError."""
        found = self.find(workspace_gid, ref)
        if found is None:
            raise UnknownPerson(
                f"{ref.strip()!r} is not an Asana user of this workspace: give the person's Asana "
                "email or user gid"
            )
        return found

    # --- visibility -----------------------------------------------------------------------------

    def team_members(self, team_gid: str) -> frozenset[str]:
        def load() -> frozenset[str]:
            return frozenset(u.gid for u in self.asana.team_members(team_gid))

        members: frozenset[str] = self._cached(("team", team_gid), load)
        return members

    def visible(self, workspace_gid: str, person: Person) -> frozenset[str]:
        def load() -> frozenset[str]:
            own = self.own_client(person.gid)
            if own is not None:
                # Their own token: Asana lists exactly the projects they may see.
                return frozenset(p.gid for p in own.projects(workspace_gid, archived=None))
            return visible_projects(self.asana.project_access(workspace_gid), person.gid, self.team_members)

        projects: frozenset[str] = self._cached(("visible", workspace_gid, person.gid), load)
        return projects

    def sees(self, person: Person, project_gid: str) -> bool:
        """One project outside the cached set (made since it was read): asked of Asana directly."""
        own = self.own_client(person.gid)
        try:
            if own is not None:
                own.project(project_gid)
                return True
            project = self.asana.project_access_for(project_gid)
        except (NotFound, Forbidden):
            return False
        return sees_project(project, person.gid, self.team_members)

    def viewer(self, workspaces: list[str], person: Person) -> Viewer:
        seen: frozenset[str] = frozenset()
        for ws in workspaces:
            seen |= self.visible(ws, person)
        return Viewer(person=person, projects=seen, recheck=lambda gid: self.sees(person, gid))
