"""Echoes of sprintpilot's own field writes (issue 23: calls per event).

Every AI field sprintpilot writes comes back as a "custom_fields changed" event by its own user.
The dependency manager and the QA reviewer wait for a Status change (Blocked, Ready for Review), and
each read the task to see it. The audit log already says which fields sprintpilot wrote on that
task: when its recent writes there (`WINDOW`) never touched the Status field, the echo cannot be
a Status change and is skipped without reading the task. A Status written by sprintpilot (an
approved proposal), an echo whose write is not audited yet, or any event by a person still
reads the task as before.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from service.db.engine import read_session
from service.db.models import AuditRow
from service.events.router import EventFacts
from service.runtime import Runtime

WINDOW = timedelta(minutes=15)
APPLIED = "action.applied"
FIELD_KIND = "set_custom_field"


def fields_we_wrote(rt: Runtime, task_gid: str, since: datetime) -> set[str]:
    """Names of the custom fields sprintpilot's applied actions wrote on the task since `since`."""
    with read_session(rt.engine) as session:
        rows = session.execute(
            select(AuditRow.after, AuditRow.details).where(
                AuditRow.ts_utc >= since, AuditRow.event == APPLIED, AuditRow.target == task_gid
            )
        ).all()
    names: set[str] = set()
    for after, details in rows:
        if (details or {}).get("kind") == FIELD_KIND and isinstance(after, dict):
            names.update(str(k) for k in after)
    return names


def echo_without(rt: Runtime, facts: EventFacts, field: str) -> bool:
    """Whether this event is the echo of our own field writes, none of them to `field`."""
    from service.events.routes_feedback import service_user_gid

    if facts.change_field != "custom_fields" or not facts.resource_gid or not facts.user_gid:
        return False
    if facts.user_gid != service_user_gid(rt):
        return False
    written = fields_we_wrote(rt, facts.resource_gid, datetime.now(UTC) - WINDOW)
    wanted = field.strip().casefold()
    return bool(written) and all(name.strip().casefold() != wanted for name in written)
