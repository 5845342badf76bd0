"""A minimal RFC 5545 calendar (one VEVENT), written by hand: no dependency.

What the RFC asks of every line we write (section 3.1): CRLF line endings; content lines longer
than 75 octets folded by inserting CRLF followed by one space (never inside a UTF-8 sequence);
TEXT values escape backslash, semicolon, comma and newline (3.3.11). Times are UTC
(`20261120T140000Z`, 3.3.5 form #2). The UID is stable per ceremony and sprint (3.8.4.7), so a
calendar that imports the file twice updates one event instead of adding a second, and DTSTAMP is
when the file was written (a later version is the newer one). `content_digest` hashes what the event
says without DTSTAMP: equal for an unchanged ceremony, which is what lets a re-run see that nothing
changed.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

from pydantic import BaseModel, Field

CRLF = "\r\n"
MAX_OCTETS = 75
PRODID = "-//sprintpilot//ceremonies//EN"


class CalendarEvent(BaseModel):
    uid: str = Field(min_length=1, max_length=255)
    start: datetime
    end: datetime
    summary: str
    description: str = ""
    stamp: datetime


def content_digest(event: CalendarEvent) -> str:
    """Hash of what the event says (not when the file was written)."""
    raw = json.dumps(event.model_dump(mode="json", exclude={"stamp"}), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(raw.encode()).hexdigest()[:10]


def escape_text(value: str) -> str:
    """An RFC 5545 TEXT value: backslash, semicolon, comma escaped; any line break becomes `\\n`."""
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return value.replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n")


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
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:{event.uid}",
        f"DTSTAMP:{utc_stamp(event.stamp)}",
        f"DTSTART:{utc_stamp(event.start)}",
        f"DTEND:{utc_stamp(event.end)}",
        f"SUMMARY:{escape_text(event.summary)}",
    ]
    if event.description:
        lines.append(f"DESCRIPTION:{escape_text(event.description)}")
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return "".join(fold(line) + CRLF for line in lines)
