"""A minimal RFC 5545 calendar (one VEVENT), written by hand: no dependency.

What the RFC asks of every line we write (section 3.1): CRLF line endings; content lines longer
than 75 octets folded by inserting CRLF followed by one space (never inside a UTF-8 sequence);
TEXT values escape backslash, semicolon, comma and newline (3.3.11). Times are UTC
(`20261120T140000Z`, 3.3.5 form #2). The UID is stable per ceremony and sprint (3.8.4.7), so a
calendar that imports the file twice updates one event instead of adding a second, and DTSTAMP is
when the file was written (a later version is the newer one). `content_digest` hashes what the event
says without DTSTAMP and SEQUENCE: equal for an unchanged ceremony, which is what lets a re-run see
that nothing changed.

SEQUENCE (3.8.7.4) is 0 for the first version and one more for each changed one (the caller keeps
the count, see agents/ceremonies/invite.py): with the same UID, a client takes the higher sequence
as the update of the event it has.

Attendees make the event group-scheduled, which needs an ORGANIZER (3.8.4.3) and is not a
publication (3.8.4.1: ATTENDEE "MUST NOT" be in a published object), so an invite with attendees
is `METHOD:REQUEST` (RFC 5546 3.2.2: ORGANIZER, ATTENDEE, SEQUENCE) and one without stays
`METHOD:PUBLISH`; attendees without an organizer are left out. Names are untrusted text from Asana:
a CN is a quoted parameter value with RFC 6868's caret escapes (`^^`, `^n`, `^'`) and no control
characters, and an address is used only when it is a plain e-mail address, so no name or address
can end the line or add a property.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field, field_validator

CRLF = "\r\n"
MAX_OCTETS = 75
PRODID = "-//sprintpilot//ceremonies//EN"
# A plain address, safe after `mailto:` as it is (RFC 6068 would percent-encode anything else):
# an unusual one is left out rather than encoded.
_EMAIL = re.compile(r"^[A-Za-z0-9._+-]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?\.[A-Za-z]{2,}$")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def is_plain_email(value: str | None) -> bool:
    return bool(value) and len(value or "") <= 254 and _EMAIL.match(value or "") is not None


class Person(BaseModel):
    """An organizer or attendee: a plain e-mail address and an optional display name."""

    email: str
    name: str = ""

    @field_validator("email")
    @classmethod
    def _plain(cls, value: str) -> str:
        if not is_plain_email(value):
            raise ValueError("not a plain e-mail address")
        return value


class CalendarEvent(BaseModel):
    uid: str = Field(min_length=1, max_length=255)
    start: datetime
    end: datetime
    summary: str
    description: str = ""
    stamp: datetime
    sequence: int = Field(default=0, ge=0)
    organizer: Person | None = None
    attendees: list[Person] = Field(default_factory=list)

    @property
    def scheduled(self) -> bool:
        """Group-scheduled: an organizer and at least one attendee (else no ATTENDEE lines)."""
        return self.organizer is not None and bool(self.attendees)


def content_digest(event: CalendarEvent) -> str:
    """Hash of what the event says (not when the file was written, nor its version number). An
    event without people hashes as it did before attendees existed, so its file keeps its name."""
    body: dict[str, Any] = event.model_dump(
        mode="json", exclude={"stamp", "sequence", "organizer", "attendees"}
    )
    if event.scheduled:
        body["organizer"] = event.organizer.model_dump() if event.organizer else None
        body["attendees"] = sorted((p.email.casefold(), p.name) for p in event.attendees)
    raw = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(raw.encode()).hexdigest()[:10]


def escape_text(value: str) -> str:
    """An RFC 5545 TEXT value: backslash, semicolon, comma escaped; any line break becomes `\\n`."""
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return value.replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n")


def param_value(value: str) -> str:
    """A quoted parameter value (3.2) with RFC 6868 caret escapes; control characters dropped."""
    value = value.replace("^", "^^").replace("\r\n", "\n").replace("\r", "\n").replace("\n", "^n")
    return '"' + _CONTROL.sub("", value.replace('"', "^'")) + '"'


def person_line(name: str, person: Person, extra: str = "") -> str:
    cn = f";CN={param_value(person.name)}" if person.name.strip() else ""
    return f"{name}{cn}{extra}:mailto:{person.email}"


def utc_stamp(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("calendar times must be timezone-aware")
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def fold(line: str) -> str:
    """One content line folded at 75 octets (continuations start with a space, which counts)."""
    out: list[str] = []
    current = b""
    limit = MAX_OCTETS
    for ch in line:
        enc = ch.encode("utf-8")
        if len(current) + len(enc) > limit:
            out.append(current.decode("utf-8"))
            current = b""
            limit = MAX_OCTETS - 1  # the leading space of a continuation line is one of the 75
        current += enc
    out.append(current.decode("utf-8"))
    return (CRLF + " ").join(out)


def calendar(event: CalendarEvent) -> str:
    """The .ics text of one event (VCALENDAR with a single VEVENT), CRLF-terminated."""
    if event.end <= event.start:
        raise ValueError("an event must end after it starts")
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        f"METHOD:{'REQUEST' if event.scheduled else 'PUBLISH'}",
        "BEGIN:VEVENT",
        f"UID:{event.uid}",
        f"SEQUENCE:{event.sequence}",
        f"DTSTAMP:{utc_stamp(event.stamp)}",
        f"DTSTART:{utc_stamp(event.start)}",
        f"DTEND:{utc_stamp(event.end)}",
        f"SUMMARY:{escape_text(event.summary)}",
    ]
    if event.description:
        lines.append(f"DESCRIPTION:{escape_text(event.description)}")
    if event.organizer is not None and event.scheduled:
        lines.append(person_line("ORGANIZER", event.organizer))
        rsvp = ";CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE"
        # Sorted by address: the same people give the same bytes.
        for person in sorted(event.attendees, key=lambda p: (p.email.casefold(), p.name)):
            lines.append(person_line("ATTENDEE", person, rsvp))
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return "".join(fold(line) + CRLF for line in lines)
