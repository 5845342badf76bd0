"""The ceremony's calendar invite: who is invited, and which version of the event a file is.

People: the members of the backlog's Asana team (all workspace users when the backlog has no team),
without the service account, each with the e-mail address Asana shows (a person whose address
Asana does not expose, or an unusual one, is left out: tools/ceremonies/ics.is_plain_email). The
organizer is the backlog's owner (the product owner, who prepares the ceremonies); without an
owner with an address the invite has no attendees (RFC 5545 needs an organizer for them).

Version: the attached file's name carries the digest of what the event says and, from the second
version on, its SEQUENCE (`Sprint 24 planning 3f2a9c01bd-2.ics`). The task's files are the only
state: the next invite of a changed event is the newest file's sequence plus one, an unchanged
event keeps its file (nothing is written, so a re-run is silent), and a restart or another worker
reads the same numbers from Asana.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from tools.asana.models import Project
from tools.ceremonies.ics import Person, is_plain_email
from tools.retro.review_doc import safe_filename

_VERSION = re.compile(r" ([0-9a-f]{10})(?:-(\d+))?\.ics$")


def invite_people(
    asana: Any, workspace_gid: str, backlog: Project, bot_gid: str | None
) -> tuple[Person | None, list[Person]]:
    """(organizer, attendees) as Asana shows them; see the module docstring."""
    team = backlog.team.gid if backlog.team is not None else None
    users = asana.team_members(team) if team else asana.users(workspace_gid)
    people = {
        u.gid: Person(email=u.email, name=u.name or "")
        for u in users
        if u.gid != bot_gid and is_plain_email(u.email)
    }
    owner = backlog.owner.gid if backlog.owner is not None else None
    organizer = people.get(owner) if owner else None
    if organizer is None:
        return None, []
    return organizer, sorted(people.values(), key=lambda p: (p.email.casefold(), p.name))


def invite_name(title: str, digest: str, sequence: int) -> str:
    base = f"{safe_filename(title)} {digest}"
    return f"{base}.ics" if sequence == 0 else f"{base}-{sequence}.ics"


def next_sequence(title: str, attached: Iterable[str], digest: str) -> tuple[int, bool]:
    """(the SEQUENCE an invite saying `digest` gets, whether the task already has that file):
    0 for the first; the newest file's when it says the same; else one more."""
    prefix = safe_filename(title)
    versions = [
        (int(m.group(2) or 0), m.group(1))
        for name in attached
        if name.startswith(prefix) and (m := _VERSION.search(name)) is not None
    ]
    if not versions:
        return 0, False
    sequence, newest = max(versions)
    if newest == digest:
        return sequence, True
    return sequence + 1, False
